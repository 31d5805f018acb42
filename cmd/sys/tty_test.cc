#include "cmd/sys/tty.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "cmd/sys/scoped_fd.h"
#include "gtest/gtest.h"

namespace moshx::sys {
namespace {

// A pty pair opened by the test: the slave plays the user's terminal.
struct PtyPair {
  ScopedFd master, slave;
};

PtyPair OpenPair() {
  PtyPair p;
  p.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  EXPECT_TRUE(p.master.valid());
  EXPECT_EQ(grantpt(p.master.get()), 0);
  EXPECT_EQ(unlockpt(p.master.get()), 0);
  char name[128];
  EXPECT_EQ(ptsname_r(p.master.get(), name, sizeof(name)), 0);
  p.slave.reset(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  EXPECT_TRUE(p.slave.valid());
  return p;
}

struct termios Get(int fd) {
  struct termios t;
  EXPECT_EQ(tcgetattr(fd, &t), 0);
  return t;
}

// Field-by-field (struct padding is not compared).
void ExpectSame(const struct termios& a, const struct termios& b) {
  EXPECT_EQ(a.c_iflag, b.c_iflag);
  EXPECT_EQ(a.c_oflag, b.c_oflag);
  EXPECT_EQ(a.c_cflag, b.c_cflag);
  EXPECT_EQ(a.c_lflag, b.c_lflag);
  EXPECT_EQ(a.c_line, b.c_line);
  EXPECT_EQ(0, memcmp(a.c_cc, b.c_cc, sizeof(a.c_cc)));
  EXPECT_EQ(cfgetispeed(&a), cfgetispeed(&b));
  EXPECT_EQ(cfgetospeed(&a), cfgetospeed(&b));
}

void ExpectRaw(const struct termios& t) {
  EXPECT_EQ(t.c_lflag & (ECHO | ECHONL | ICANON | ISIG | IEXTEN), 0u);
  EXPECT_EQ(t.c_iflag & (IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                         ICRNL | IXON), 0u);
  EXPECT_NE(t.c_iflag & IUTF8, 0u);
  EXPECT_EQ(t.c_oflag & OPOST, 0u);
  EXPECT_EQ(t.c_cflag & (CSIZE | PARENB), static_cast<tcflag_t>(CS8));
  EXPECT_EQ(t.c_cc[VMIN], 1);
  EXPECT_EQ(t.c_cc[VTIME], 0);
}

TEST(TtyTest, RawModeIsAppliedAndExactlyRestored) {
  PtyPair p = OpenPair();
  // Start from unusual cooked settings so that restoring defaults would not
  // pass by accident.
  struct termios odd = Get(p.slave.get());
  odd.c_lflag |= ECHO | ICANON | ISIG | ECHOCTL;
  odd.c_iflag |= ICRNL | IXON;
  odd.c_iflag &= ~IUTF8;
  odd.c_cc[VERASE] = 0x08;
  odd.c_cc[VINTR] = 0x05;
  cfsetospeed(&odd, B9600);
  ASSERT_EQ(tcsetattr(p.slave.get(), TCSANOW, &odd), 0);
  struct termios before = Get(p.slave.get());
  {
    absl::StatusOr<std::unique_ptr<ScopedRawMode>> raw =
        ScopedRawMode::Enter(p.slave.get());
    ASSERT_TRUE(raw.ok()) << raw.status();
    ExpectRaw(Get(p.slave.get()));
    ExpectSame((*raw)->saved(), before);
  }
  ExpectSame(Get(p.slave.get()), before);
}

TEST(TtyTest, RawModeStopsLineDisciplineProcessing) {
  PtyPair p = OpenPair();
  absl::StatusOr<std::unique_ptr<ScopedRawMode>> raw =
      ScopedRawMode::Enter(p.slave.get());
  ASSERT_TRUE(raw.ok());
  // Typed bytes (incl. Ctrl-C and CR) reach the reader at once, unchanged,
  // and nothing is echoed back.
  ASSERT_EQ(write(p.master.get(), "a\x03\r", 3), 3);
  char buf[8];
  ASSERT_EQ(read(p.slave.get(), buf, sizeof(buf)), 3);
  EXPECT_EQ(std::string(buf, 3), "a\x03\r");
  int flags = fcntl(p.master.get(), F_GETFL);
  fcntl(p.master.get(), F_SETFL, flags | O_NONBLOCK);
  EXPECT_EQ(read(p.master.get(), buf, sizeof(buf)), -1) << "echoed";
  // Output is not post-processed: "\n" stays "\n".
  ASSERT_EQ(write(p.slave.get(), "x\n", 2), 2);
  usleep(20000);
  ASSERT_EQ(read(p.master.get(), buf, sizeof(buf)), 2);
  EXPECT_EQ(std::string(buf, 2), "x\n");
}

TEST(TtyTest, SuspendAndResume) {
  PtyPair p = OpenPair();
  struct termios before = Get(p.slave.get());
  absl::StatusOr<std::unique_ptr<ScopedRawMode>> raw =
      ScopedRawMode::Enter(p.slave.get());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE((*raw)->Suspend().ok());
  ExpectSame(Get(p.slave.get()), before);
  ASSERT_TRUE((*raw)->Resume().ok());
  ExpectRaw(Get(p.slave.get()));
}

TEST(TtyTest, OnlyOneActiveRawMode) {
  PtyPair p = OpenPair(), q = OpenPair();
  absl::StatusOr<std::unique_ptr<ScopedRawMode>> first =
      ScopedRawMode::Enter(p.slave.get());
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ScopedRawMode::Enter(q.slave.get()).status()));
  first->reset();
  EXPECT_TRUE(ScopedRawMode::Enter(q.slave.get()).ok());
}

TEST(TtyTest, EnterFailsOnNonTerminal) {
  ScopedFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  absl::StatusOr<std::unique_ptr<ScopedRawMode>> raw =
      ScopedRawMode::Enter(null.get());
  ASSERT_FALSE(raw.ok());
  EXPECT_NE(raw.status().message().find("tcgetattr"), absl::string_view::npos);
  // The failed attempt must not leave raw mode "claimed".
  PtyPair p = OpenPair();
  EXPECT_TRUE(ScopedRawMode::Enter(p.slave.get()).ok());
}

int g_signal_fd = -1;
struct termios g_seen_in_handler;

void FatalHandler(int) {
  ScopedRawMode::RestoreFromSignalHandler();
  tcgetattr(g_signal_fd, &g_seen_in_handler);
}

TEST(TtyTest, SignalHandlerRestoresTerminal) {
  PtyPair p = OpenPair();
  struct termios before = Get(p.slave.get());
  ScopedRawMode::RestoreFromSignalHandler();  // none active: harmless
  absl::StatusOr<std::unique_ptr<ScopedRawMode>> raw =
      ScopedRawMode::Enter(p.slave.get());
  ASSERT_TRUE(raw.ok());
  g_signal_fd = p.slave.get();
  struct sigaction sa = {}, old;
  sa.sa_handler = FatalHandler;
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old, nullptr);
  ExpectSame(g_seen_in_handler, before);
  raw->reset();
  ExpectSame(Get(p.slave.get()), before);
}

TEST(TtyTest, WindowSizeIsRead) {
  PtyPair p = OpenPair();
  struct winsize ws = {};
  ws.ws_row = 37;
  ws.ws_col = 121;
  ASSERT_EQ(ioctl(p.master.get(), TIOCSWINSZ, &ws), 0);
  absl::StatusOr<WindowSize> size = GetWindowSize(p.slave.get());
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, (WindowSize{37, 121}));
}

TEST(TtyTest, ZeroWindowSizeIsAnError) {
  PtyPair p = OpenPair();
  struct winsize ws = {};
  ASSERT_EQ(ioctl(p.master.get(), TIOCSWINSZ, &ws), 0);
  EXPECT_TRUE(absl::IsInvalidArgument(GetWindowSize(p.slave.get()).status()));
}

TEST(TtyTest, NonTerminalIsDetected) {
  PtyPair p = OpenPair();
  EXPECT_TRUE(IsTty(p.slave.get()));
  ScopedFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  EXPECT_FALSE(IsTty(null.get()));
  EXPECT_FALSE(IsTty(-1));
  EXPECT_FALSE(GetWindowSize(null.get()).ok());
}

TEST(ScopedFdTest, ClosesAndMoves) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    ScopedFd a(fds[0]);
    ScopedFd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), fds[0]);
    ScopedFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), fds[0]);
  }
  EXPECT_EQ(fcntl(fds[0], F_GETFD), -1) << "not closed";
  ScopedFd w(fds[1]);
  int raw = w.release();
  EXPECT_FALSE(w.valid());
  EXPECT_NE(fcntl(raw, F_GETFD), -1) << "release() closed it";
  close(raw);
}

}  // namespace
}  // namespace moshx::sys
