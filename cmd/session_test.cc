// Whole sessions in one process: ClientSession and ServerSession, the server
// running a real program on a real pty, on each of two paths (SessionPathTest
// runs on both; the random-output tests have a stream-path twin):
//   * UDP on the simulated network (virtual time, seeded loss);
//   * the stream path (net/stream_path.h) over a real socketpair, with the
//     same seeded loss applied to the datagrams each side sends.
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/client/client_session.h"
#include "cmd/server/server_session.h"
#include "cmd/testing/real_fd_loop.h"
#include "core/mosh_model.h"
#include "core/protocol/terminal_state.h"
#include "core/protocol/user_stream.h"
#include "gtest/gtest.h"
#include "net/path.h"
#include "net/send_scheduler.h"
#include "net/stream_path.h"
#include "net/sync_state.h"
#include "net/testing/simulated_network.h"
#include "term/emulator.h"
#include "term/random_stream.h"

namespace moshx::cmd {
namespace {

// The application protocol's states satisfy the transport's contract.
static_assert(net::IsSyncState<protocol::UserStream>);
static_assert(net::IsSyncState<protocol::TerminalState>);

using net::testing::LinkParams;
using net::testing::SimulatedNetwork;

constexpr uint16_t kPort = 60001;

net::SessionKey Key() {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(0xA0 + i);
  return net::SessionKey(b);
}

std::string ScreenText(const core::Framebuffer& fb) {
  std::string out;
  for (int y = 0; y < fb.height(); ++y) {
    for (int x = 0; x < fb.width(); ++x) {
      const core::Cell& c = fb.cell(y, x);
      if (!c.is_continuation()) out += c.is_blank() ? " " : c.text;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

// Where two framebuffers differ first (for failure messages).
std::string FirstDifference(const core::Framebuffer& a, const core::Framebuffer& b) {
  if (a.width() != b.width() || a.height() != b.height()) return "size";
  for (int y = 0; y < a.height(); ++y) {
    if (a.row(y) != b.row(y)) return absl::StrCat("row ", y);
  }
  if (a.cursor() != b.cursor()) {
    return absl::StrCat("cursor ", a.cursor().row, ",", a.cursor().col, " vs ", b.cursor().row,
                        ",", b.cursor().col);
  }
  if (a.modes() != b.modes()) return "modes";
  if (a.title() != b.title() || a.icon_name() != b.icon_name()) return "title";
  if (a.bell_count() != b.bell_count()) {
    return absl::StrCat("bell ", a.bell_count(), " vs ", b.bell_count());
  }
  if (a.clipboard() != b.clipboard()) return "clipboard";
  if (a.pen() != b.pen()) return "pen";
  return "none";
}

enum class PathKind { kUdp, kStream };

std::string PathName(const ::testing::TestParamInfo<PathKind>& info) {
  return info.param == PathKind::kUdp ? "Udp" : "Stream";
}

// A path that loses a seeded fraction of the datagrams sent on it (a stream
// itself loses nothing), so the stream variant meets the same loss as UDP.
class DroppingPath : public net::Path {
 public:
  DroppingPath(std::unique_ptr<net::Path> inner, double loss, uint64_t seed)
      : inner_(std::move(inner)), loss_(loss), rng_(seed) {}

  void set_receive_handler(ReceiveHandler h) override { inner_->set_receive_handler(std::move(h)); }
  absl::Status Send(absl::string_view datagram) override {
    ++sent_;
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < loss_) {
      ++lost_;
      return absl::OkStatus();  // lost on the way, as a UDP datagram would be
    }
    return inner_->Send(datagram);
  }
  size_t mtu() const override { return inner_->mtu(); }
  std::optional<net::Address> peer() const override { return inner_->peer(); }
  void SetPeer(const net::Address& peer) override { inner_->SetPeer(peer); }
  void ClearPeer() override { inner_->ClearPeer(); }
  net::Address local_address() const override { return inner_->local_address(); }
  net::PathStats stats() const override { return inner_->stats(); }

  uint64_t sent() const { return sent_; }
  uint64_t lost() const { return lost_; }

 private:
  std::unique_ptr<net::Path> inner_;
  const double loss_;
  std::mt19937_64 rng_;
  uint64_t sent_ = 0;
  uint64_t lost_ = 0;
};

// The server's event loop in the harness: forwards to the shared loop and
// records the virtual time of every alarm of the server that fires (its
// transport's timers), to count its wake-ups.
class CountingLoop : public net::EventLoop {
 public:
  CountingLoop(net::EventLoop* base, const net::Clock* clock) : base_(base), clock_(clock) {}
  absl::Status WatchFd(int fd, uint32_t events, FdCallback callback) override {
    return base_->WatchFd(fd, events, std::move(callback));
  }
  void UnwatchFd(int fd) override { base_->UnwatchFd(fd); }
  AlarmId ScheduleAlarm(net::MonoTime deadline, std::function<void()> callback) override {
    return base_->ScheduleAlarm(deadline, [this, callback = std::move(callback)] {
      fired.push_back(clock_->Now());
      callback();
    });
  }
  bool CancelAlarm(AlarmId id) override { return base_->CancelAlarm(id); }
  absl::Status WatchSignal(int signo, std::function<void()> callback) override {
    return base_->WatchSignal(signo, std::move(callback));
  }
  absl::Status RunOnce(absl::Duration timeout) override { return base_->RunOnce(timeout); }

  std::vector<net::MonoTime> fired;

 private:
  net::EventLoop* const base_;
  const net::Clock* const clock_;
};

class SessionHarness {
 public:
  SessionHarness(uint64_t seed, double loss, net::WireMode mode,
                 PathKind path = PathKind::kUdp)
      : SessionHarness(seed, loss, mode, path, {"/bin/sh"}, [](ServerSessionOptions*) {}) {}

  // `argv` runs on the pty; `tweak` adjusts the server's options.
  SessionHarness(uint64_t seed, double loss, net::WireMode mode, PathKind path,
                 std::vector<std::string> argv,
                 const std::function<void(ServerSessionOptions*)>& tweak)
      : net_(seed),
        loop_(&net_),
        server_loop_(&loop_, &net_),
        client_rng_(seed + 1),
        server_rng_(seed + 2) {
    client_host = net_.AddHost("10.0.0.1");
    server_host = net_.AddHost("10.0.0.2");
    LinkParams link;
    link.delay = absl::Milliseconds(50);
    link.loss = loss;
    net_.SetLinks(client_host, server_host, link);
    net::TransportDeps server_deps{&server_loop_, &net_, nullptr, nullptr,
                                   absl::BitGenRef(server_rng_)};
    net::TransportDeps client_deps{&loop_, &net_, nullptr, nullptr, absl::BitGenRef(client_rng_)};
    if (path == PathKind::kUdp) {
      server_deps.socket = *server_host->Bind(kPort);
      client_deps.socket = *client_host->Open(net::AddressFamily::kIPv4);
      client_deps.socket_factory = client_host;
    } else {
      int fds[2];
      EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
      auto server_end = std::make_unique<DroppingPath>(
          *net::StreamPath::Create(&loop_, fds[0], fds[0], /*peer_known=*/false), loss,
          seed + 3);
      auto client_end = std::make_unique<DroppingPath>(
          *net::StreamPath::Create(&loop_, fds[1], fds[1], /*peer_known=*/true), loss,
          seed + 4);
      stream_down_ = server_end.get();
      stream_up_ = client_end.get();
      server_deps.path = std::move(server_end);
      client_deps.path = std::move(client_end);
    }
    ServerSessionOptions so;
    so.mode = mode;
    so.connection_id = 0x1234;
    tweak(&so);
    server_ = *ServerSession::Create(
        std::move(server_deps), Key(), so, [argv](sys::WindowSize size) {
          sys::PtyOptions po;
          po.argv = argv;
          po.size = size;
          po.extra_env = {"PS1=$ ", "ENV="};
          return sys::Pty::Spawn(po);
        });
    ClientSessionOptions co;
    co.mode = mode;
    co.connection_id = 0x1234;
    co.server = server_host->ip().WithPort(kPort);
    client_ = *ClientSession::Create(std::move(client_deps), Key(), co,
                                     [this](const core::Framebuffer&, bool) {
                                       ++frames_drawn_;
                                       if (keep_frames_) {
                                         frames_.push_back(client_->server_framebuffer());
                                       }
                                     });
  }

  // Datagrams sent and lost client -> server (`up`) or server -> client.
  uint64_t Sent(bool up) {
    if (stream_up_ != nullptr) return (up ? stream_up_ : stream_down_)->sent();
    return up ? net_.stats(client_host, server_host).sent : net_.stats(server_host, client_host).sent;
  }
  uint64_t Lost(bool up) {
    if (stream_up_ != nullptr) return (up ? stream_up_ : stream_down_)->lost();
    return up ? net_.stats(client_host, server_host).lost : net_.stats(server_host, client_host).lost;
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    return loop_.RunUntil(done, limit, [this] {
      server_->Service();
      if (client_ != nullptr) client_->Service();
    });
  }

  bool ClientShows(const std::string& text) {
    return absl::StrContains(ScreenText(client_->server_framebuffer()), text);
  }

  SimulatedNetwork net_;
  SimulatedNetwork::Host* client_host = nullptr;
  SimulatedNetwork::Host* server_host = nullptr;
  testing::RealFdLoop loop_;
  CountingLoop server_loop_;
  std::mt19937_64 client_rng_, server_rng_;
  std::unique_ptr<ServerSession> server_;
  std::unique_ptr<ClientSession> client_;
  DroppingPath* stream_up_ = nullptr;    // stream variant: owned by the client
  DroppingPath* stream_down_ = nullptr;  // stream variant: owned by the server
  int frames_drawn_ = 0;
  bool keep_frames_ = false;
  std::vector<core::Framebuffer> frames_;  // the server's screen at each draw
};

// The tests that run on both paths (tests of one path only are TEST(SessionTest, ...)).
class SessionPathTest : public ::testing::TestWithParam<PathKind> {};
INSTANTIATE_TEST_SUITE_P(Paths, SessionPathTest,
                         ::testing::Values(PathKind::kUdp, PathKind::kStream), PathName);

void TypeCommandAndSeeOutput(double loss, net::WireMode mode, PathKind path) {
  SessionHarness h(/*seed=*/7, loss, mode, path);
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("$\n"); }, absl::Seconds(60)))
      << "no prompt; client screen:\n" << ScreenText(h.client_->server_framebuffer());
  h.client_->HandleInput("echo hello-$((6*7))\r");
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("hello-42\n"); }, absl::Seconds(60)))
      << "client screen:\n" << ScreenText(h.client_->server_framebuffer());
  EXPECT_TRUE(h.ClientShows("echo hello-$((6*7))"));  // the echoed command line
  EXPECT_GT(h.frames_drawn_, 0);
  // With loss, more commands until a datagram was lost each way: one command
  // is a handful of datagrams, which 30% loss can all spare.
  for (int i = 1; loss > 0 && i <= 20 && (h.Lost(true) == 0 || h.Lost(false) == 0); ++i) {
    h.client_->HandleInput(absl::StrCat("echo again-$((", i, "*11))\r"));
    const std::string want = absl::StrCat("again-", i * 11, "\n");
    ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows(want); }, absl::Seconds(60)))
        << "client screen:\n" << ScreenText(h.client_->server_framebuffer());
  }
  // The client's copy of the screen converges to the server's exactly.
  ASSERT_TRUE(h.RunUntil(
      [&] {
        return h.client_->server_framebuffer() ==
               h.server_->transport().local_state().framebuffer();
      },
      absl::Seconds(60)));
  // The shell exiting ends both sides through the shutdown handshake.
  h.client_->HandleInput("exit\r");
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->done() && h.server_->done(); },
                         absl::Seconds(60)));
  EXPECT_EQ(h.server_->exit_reason(), "shell exited");
  EXPECT_TRUE(h.server_->clean() || loss > 0);  // at 30% loss the last ack may be lost
  EXPECT_TRUE(h.client_->clean());
  std::printf("%s, loss %.0f%%: %llu/%llu datagrams lost up, %llu/%llu down, %.1f virtual s\n",
              path == PathKind::kUdp ? "udp" : "stream", loss * 100,
              (unsigned long long)h.Lost(true), (unsigned long long)h.Sent(true),
              (unsigned long long)h.Lost(false), (unsigned long long)h.Sent(false),
              absl::ToDoubleSeconds(h.net_.Now().since_epoch()));
  EXPECT_GT(h.Sent(true), 0u);
  EXPECT_GT(h.Sent(false), 0u);
  if (loss > 0) {
    EXPECT_GT(h.Lost(true), 0u);
    EXPECT_GT(h.Lost(false), 0u);
  }
}

TEST(PlainPtyOutputTest, OnlyPrintableAsciiCrAndLfArePlainWhereverTheOtherByteIs) {
  EXPECT_TRUE(IsPlainPtyOutput(""));
  for (size_t length : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{200}}) {
    std::string text;
    for (size_t i = 0; i < length; ++i) text.push_back(i % 9 == 8 ? '\n' : "0123456\r"[i % 8]);
    ASSERT_TRUE(IsPlainPtyOutput(text)) << length;
    for (size_t at : {size_t{0}, length / 2, length - 1}) {
      for (int b = 0; b < 256; ++b) {
        std::string changed = text;
        changed[at] = static_cast<char>(b);
        const bool plain = (b >= 0x20 && b <= 0x7e) || b == '\r' || b == '\n';
        ASSERT_EQ(IsPlainPtyOutput(changed), plain) << length << " " << at << " " << b;
      }
    }
  }
}

TEST_P(SessionPathTest, TypedCommandShowsItsOutputOnAPerfectLink) {
  TypeCommandAndSeeOutput(0.0, net::WireMode::kMoshx, GetParam());
}

TEST_P(SessionPathTest, TypedCommandShowsItsOutputAtThirtyPercentLoss) {
  TypeCommandAndSeeOutput(0.30, net::WireMode::kMoshx, GetParam());
}

TEST_P(SessionPathTest, MoshWireModeWorksToo) {
  TypeCommandAndSeeOutput(0.0, net::WireMode::kMosh, GetParam());
}

TEST_P(SessionPathTest, MoshWireModeAtThirtyPercentLoss) {
  TypeCommandAndSeeOutput(0.30, net::WireMode::kMosh, GetParam());
}

TEST_P(SessionPathTest, EscapeDotEndsTheSessionFromTheClient) {
  SessionHarness h(/*seed=*/3, 0.0, net::WireMode::kMoshx, GetParam());
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("$\n"); }, absl::Seconds(60)));
  h.client_->HandleInput("\x1e.");
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->done() && h.server_->done(); },
                         absl::Seconds(30)));
  EXPECT_TRUE(h.client_->clean());
  EXPECT_EQ(h.server_->exit_reason(), "the client ended the session");
}

TEST_P(SessionPathTest, ResizeReachesTheShell) {
  SessionHarness h(/*seed=*/5, 0.0, net::WireMode::kMoshx, GetParam());
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("$\n"); }, absl::Seconds(60)));
  h.client_->HandleResize(100, 30);
  h.client_->HandleInput("stty size\r");
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("30 100"); }, absl::Seconds(60)))
      << ScreenText(h.client_->server_framebuffer());
  EXPECT_EQ(h.client_->server_framebuffer().width(), 100);
  EXPECT_EQ(h.client_->server_framebuffer().height(), 30);
}

// moshx mode: the association carries reliable streams beside the terminal
// (net/stream); the shell keeps answering while a stream moves bytes.
TEST_P(SessionPathTest, StreamFromTheClientReachesTheServerBesideTheTerminal) {
  SessionHarness h(/*seed=*/9, 0.05, net::WireMode::kMoshx, GetParam());
  net::stream::StreamMux* cm = h.client_->streams();
  net::stream::StreamMux* sm = h.server_->streams();
  ASSERT_NE(cm, nullptr);
  ASSERT_NE(sm, nullptr);
  std::string data(300 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  std::string got;
  std::optional<net::stream::StreamId> server_id;
  sm->set_incoming_handler([&](net::stream::StreamId id) { server_id = id; });
  net::stream::StreamId id = *cm->Open();
  size_t written = 0;
  h.client_->HandleInput("echo typed-$((2*21))\r");
  ASSERT_TRUE(h.RunUntil(
      [&] {
        if (written < data.size()) {
          written += cm->Write(id, absl::string_view(data).substr(written));
          if (written == data.size()) cm->Finish(id);
        }
        if (server_id) got += sm->Read(*server_id, 1 << 20);
        return server_id && sm->AtEof(*server_id) && h.ClientShows("typed-42\n");
      },
      absl::Seconds(60)));
  EXPECT_TRUE(got == data) << got.size() << " of " << data.size() << " bytes";
}

TEST_P(SessionPathTest, MoshModeHasNoStreams) {
  SessionHarness h(/*seed=*/10, 0.0, net::WireMode::kMosh, GetParam());
  EXPECT_EQ(h.client_->streams(), nullptr);
  EXPECT_EQ(h.server_->streams(), nullptr);
}

// Snapshots once per send (ServerSessionOptions::snapshot_per_send) are
// exact: on random terminal output (term::RandomVtStream, through a raw pty
// so the bytes reach the emulator unchanged) every screen the client draws
// is the screen a plain emulator (no fast path, a snapshot after every read)
// shows after some prefix of the very reads the server made, and the last
// one is the screen after all of them. Both wire modes, with and without
// loss, with the optimisation on and off (the plain path must pass too).
void RandomOutputArrivesExactly(uint64_t seed, double loss, net::WireMode mode,
                                bool per_send, PathKind kind = PathKind::kUdp) {
  std::mt19937_64 rng(seed);
  std::string stream;
  // At most 40 bells: a frame carries at most core::kMaxBells of them.
  for (int i = 0; i < 40; ++i) stream += term::RandomVtStream(rng, 200, 80, 24, /*max_bells=*/1);
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/stream", seed, ".bin");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(stream.data(), 1, stream.size(), f), stream.size());
    std::fclose(f);
  }
  std::vector<std::string> reads;
  SessionHarness h(seed, loss, mode, kind,
                   {"/bin/sh", "-c", absl::StrCat("stty raw -echo; cat ", path, "; exec sleep 600")},
                   [&](ServerSessionOptions* o) {
                     o->snapshot_per_send = per_send;
                     o->on_pty_output = [&reads](absl::string_view b) {
                       reads.emplace_back(b);
                     };
                   });
  h.keep_frames_ = true;
  size_t total = 0;
  ASSERT_TRUE(h.RunUntil(
      [&] {
        total = 0;
        for (const std::string& r : reads) total += r.size();
        return total >= stream.size();
      },
      absl::Seconds(120)))
      << "read " << total << " of " << stream.size() << " bytes";
  ASSERT_EQ(total, stream.size());
  // The reads, replayed into a plain emulator: the screen after each.
  const core::Framebuffer& server = h.server_->transport().local_state().framebuffer();
  term::Emulator::Options plain;
  plain.plain_text_fast_path = false;
  term::Emulator replay(server.width(), server.height(), plain);
  std::vector<core::Framebuffer> screens;
  auto add = [&] {
    core::Framebuffer fb = replay.Snapshot();
    if (mode == net::WireMode::kMosh) core::ToMoshModel(&fb);
    screens.push_back(std::move(fb));
  };
  add();
  for (const std::string& r : reads) {
    (void)replay.Feed(r);
    add();
  }
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->server_framebuffer() == screens.back(); },
                         absl::Seconds(60)))
      << "client differs from the expected screen at "
      << FirstDifference(h.client_->server_framebuffer(), screens.back())
      << "; server's state differs at "
      << FirstDifference(h.server_->transport().local_state().framebuffer(), screens.back())
      << "; " << reads.size() << " reads\nexpected:\n" << ScreenText(screens.back());
  ASSERT_FALSE(h.frames_.empty());
  for (size_t i = 0; i < h.frames_.size(); ++i) {
    EXPECT_TRUE(std::any_of(screens.begin(), screens.end(),
                            [&](const core::Framebuffer& s) { return s == h.frames_[i]; }))
        << "frame " << i << " of " << h.frames_.size() << " is no screen of the output";
  }
}

// The three tests below, on the stream path (they run on UDP).
TEST(SessionTest, StreamPathShowsExactlyTheScreensOfRandomOutput) {
  for (uint64_t seed : {11u, 12u}) {
    RandomOutputArrivesExactly(seed, 0.0, net::WireMode::kMoshx, true, PathKind::kStream);
    RandomOutputArrivesExactly(seed, 0.0, net::WireMode::kMosh, true, PathKind::kStream);
  }
  RandomOutputArrivesExactly(13, 0.3, net::WireMode::kMoshx, true, PathKind::kStream);
  RandomOutputArrivesExactly(14, 0.3, net::WireMode::kMosh, true, PathKind::kStream);
  RandomOutputArrivesExactly(11, 0.0, net::WireMode::kMoshx, false, PathKind::kStream);
  RandomOutputArrivesExactly(13, 0.3, net::WireMode::kMosh, false, PathKind::kStream);
}

TEST(SessionTest, SnapshotPerSendShowsExactlyTheScreensOfRandomOutput) {
  for (uint64_t seed : {11u, 12u}) {
    RandomOutputArrivesExactly(seed, 0.0, net::WireMode::kMoshx, /*per_send=*/true);
    RandomOutputArrivesExactly(seed, 0.0, net::WireMode::kMosh, /*per_send=*/true);
  }
}

TEST(SessionTest, SnapshotPerSendShowsExactlyTheScreensOfRandomOutputAtLoss) {
  RandomOutputArrivesExactly(13, 0.3, net::WireMode::kMoshx, /*per_send=*/true);
  RandomOutputArrivesExactly(14, 0.3, net::WireMode::kMosh, /*per_send=*/true);
}

TEST(SessionTest, PlainPathShowsExactlyTheScreensOfRandomOutput) {
  RandomOutputArrivesExactly(11, 0.0, net::WireMode::kMoshx, /*per_send=*/false);
  RandomOutputArrivesExactly(13, 0.3, net::WireMode::kMosh, /*per_send=*/false);
}

// Issue 19: an idle server wakes at most once a second when no client
// datagram arrives. After the prompt the client vanishes (no datagram ever
// again); over the next 20 virtual seconds the server's own timer
// (WaitTime) never asks for a wake-up sooner than a second and its
// transport's alarms fire at most once a second on average.
void IdleServerWakesRarely(net::WireMode mode) {
  SessionHarness h(/*seed=*/17, 0.0, mode);
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("$\n"); }, absl::Seconds(60)));
  h.client_.reset();
  h.RunUntil([] { return false; }, absl::Seconds(5));  // acks and retransmissions end
  h.server_loop_.fired.clear();
  const net::MonoTime start = h.net_.Now();
  absl::Duration shortest_wait = absl::InfiniteDuration();
  h.RunUntil(
      [&] {
        shortest_wait = std::min(shortest_wait, h.server_->WaitTime());
        return false;
      },
      absl::Seconds(20));
  const double seconds = absl::ToDoubleSeconds(h.net_.Now() - start);
  EXPECT_GE(seconds, 19.0);
  EXPECT_FALSE(h.server_->done());
  EXPECT_GE(shortest_wait, absl::Seconds(1));
  EXPECT_LE(static_cast<double>(h.server_loop_.fired.size()), seconds)
      << h.server_loop_.fired.size() << " alarms in " << seconds << " s";
  std::printf("idle server, %s mode: %zu alarms in %.1f s, shortest session wait %s\n",
              mode == net::WireMode::kMosh ? "mosh" : "moshx", h.server_loop_.fired.size(),
              seconds, absl::FormatDuration(shortest_wait).c_str());
}

TEST(SessionTest, IdleServerWakesAtMostOnceASecondWithoutClientDatagrams) {
  IdleServerWakesRarely(net::WireMode::kMoshx);
  IdleServerWakesRarely(net::WireMode::kMosh);
}

// "fresh" (core/protocol/pty_state.h) tells the client that what reads the
// terminal is the shell's own first prompt: it holds until a keystroke
// reaches the server, a resize does not end it, and it never comes back.
TEST(SessionTest, PtyStateIsFreshUntilTheFirstKeystroke) {
  SessionHarness h(/*seed=*/11, 0.0, net::WireMode::kMoshx, PathKind::kUdp);
  auto client_pty = [&h] { return h.client_->transport().remote_state().pty_state(); };
  ASSERT_TRUE(h.RunUntil(
      [&] { return h.ClientShows("$") && client_pty().has_value() && client_pty()->settled; },
      absl::Seconds(60)));
  EXPECT_TRUE(client_pty()->fresh);
  h.client_->HandleResize(100, 30);
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->server_framebuffer().width() == 100; },
                         absl::Seconds(10)));
  EXPECT_TRUE(client_pty()->fresh) << "a resize is no keystroke";
  h.client_->HandleInput("x");
  ASSERT_TRUE(h.RunUntil([&] { return !client_pty()->fresh; }, absl::Seconds(10)));
  h.client_->HandleInput("\x15");
  (void)h.RunUntil([] { return false; }, absl::Seconds(3));
  EXPECT_FALSE(client_pty()->fresh);
  EXPECT_FALSE(h.server_->transport().local_state().pty_state()->fresh);
}

// After a burst of output the session gives back its idle buffers and then
// calls release_free_memory (malloc_trim in `moshx serve`) once, when the
// pty has been quiet for a second and the history stream is drained; small
// output and idle time call nothing.
TEST(SessionTest, MemoryIsReleasedOnceAfterABurstOfOutput) {
  int calls = 0;
  size_t stream_buffers_at_call = 1;
  SessionHarness* harness = nullptr;
  SessionHarness h(/*seed=*/13, 0.0, net::WireMode::kMoshx, PathKind::kUdp,
                   {"/bin/sh", "-c", "read go; seq 1 60000; echo burst-done; exec /bin/sh"},
                   [&](ServerSessionOptions* o) {
                     o->scrollback_lines = 2000;
                     o->release_free_memory = [&] {
                       ++calls;
                       stream_buffers_at_call = harness->server_->streams()->buffer_capacity();
                     };
                   });
  harness = &h;
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->connected(); }, absl::Seconds(60)));
  (void)h.RunUntil([] { return false; }, absl::Seconds(5));
  EXPECT_EQ(calls, 0) << "no burst yet";
  h.client_->HandleInput("\r");
  ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows("burst-done"); }, absl::Seconds(60)));
  const net::MonoTime done = h.net_.Now();
  ASSERT_TRUE(h.RunUntil([&] { return calls > 0; }, absl::Seconds(30)));
  EXPECT_GE(h.net_.Now() - done, ServerSession::kReleaseQuiet - absl::Milliseconds(200));
  EXPECT_EQ(stream_buffers_at_call, 0u) << "the streams' idle buffers go back first";
  (void)h.RunUntil([] { return false; }, absl::Seconds(20));
  EXPECT_EQ(calls, 1) << "once per burst";
}

// Latency of answers: a session over a link of `one_way` delay each way
// whose shell runs `script`. Each of 5 rounds calls `ask(h, i)` and waits
// until the client shows `marker` followed by i and a newline; returns,
// sorted, how long after the server read each marker the client showed it.
std::vector<absl::Duration> AnswerDelays(uint64_t seed, const std::string& script,
                                         absl::Duration one_way, const std::string& marker,
                                         const std::function<void(SessionHarness&, int)>& ask) {
  std::map<std::string, net::MonoTime> read_at;
  SessionHarness* harness = nullptr;
  SessionHarness h(seed, 0.0, net::WireMode::kMoshx, PathKind::kUdp, {"/bin/sh", "-c", script},
                   [&](ServerSessionOptions* o) {
                     o->on_pty_output = [&](absl::string_view b) {
                       const size_t at = b.find(marker);
                       if (at != absl::string_view::npos && at + marker.size() + 1 <= b.size()) {
                         read_at.emplace(std::string(b.substr(at, marker.size() + 1)),
                                         harness->net_.Now());
                       }
                     };
                   });
  harness = &h;
  LinkParams link;
  link.delay = one_way;
  h.net_.SetLinks(h.client_host, h.server_host, link);
  std::vector<absl::Duration> late;
  if (!h.RunUntil([&] { return h.client_->connected(); }, absl::Seconds(60))) {
    ADD_FAILURE() << "not connected";
    return late;
  }
  (void)h.RunUntil([] { return false; }, absl::Seconds(3));  // the RTT estimate settles
  for (int i = 1; i <= 5; ++i) {
    const std::string done = absl::StrCat(marker, i);
    ask(h, i);
    if (!h.RunUntil([&] { return h.ClientShows(done + "\n"); }, absl::Seconds(60)) ||
        read_at.count(done) != 1) {
      ADD_FAILURE() << done << " not shown, or not read once";
      return late;
    }
    late.push_back(h.net_.Now() - read_at[done]);
    std::printf("%s: shown %.1f ms after it was read\n", done.c_str(),
                absl::ToDoubleMilliseconds(late.back()));
    (void)h.RunUntil([] { return false; }, absl::Seconds(1));
  }
  std::sort(late.begin(), late.end());
  return late;
}

// The last screen of a long answer to input (a command's output, then the
// prompt) leaves once the pty has been quiet for a moment, not up to a
// frame interval later: at 500 ms RTT (interval 250 ms) the client shows
// the answer's last line about the one-way delay plus kAnswerQuiet (15 ms)
// after the server read it, not up to 250 ms more. (One answer of five may
// pause mid-way more often than kAnswerMarks allows on a loaded machine.)
TEST(SessionTest, TheLastScreenOfALongAnswerLeavesOnceThePtyIsQuiet) {
  std::vector<absl::Duration> late = AnswerDelays(
      17, "while read x; do seq 1 300000; echo answer-done-$x; done", absl::Milliseconds(250),
      "answer-done-",
      [](SessionHarness& h, int i) { h.client_->HandleInput(absl::StrCat(i, "\r")); });
  ASSERT_EQ(late.size(), 5u);
  // One-way delay 250 ms, kAnswerQuiet 15 ms, and a few ms of slices; at
  // the frame interval alone about 250 + 125 ms on average.
  EXPECT_LE(late[3], absl::Milliseconds(250 + 15 + 20));
}

// The answer to Ctrl-C during a flood (the shell's line after the job died)
// leaves once the pty has been quiet for 3 ms (kInterruptAnswerQuiet), not
// the 8 ms collection delay behind the urgent frame that carried the echoed
// "^C" (docs/protocol.md §6.4): shown about the one-way delay plus 3 ms
// after the server read it.
TEST(SessionTest, TheAnswerToCtrlCLeavesAfterAShortQuiet) {
  std::vector<absl::Duration> late = AnswerDelays(
      19,
      "n=0; trap 'echo interrupted-$n' INT; while read x; do n=$((n+1)); seq 1 999999999; done",
      absl::Milliseconds(50), "interrupted-", [](SessionHarness& h, int) {
        h.client_->HandleInput("\r");
        (void)h.RunUntil([] { return false; }, absl::Milliseconds(300));  // the flood runs
        h.client_->HandleInput("\x03");
      });
  ASSERT_EQ(late.size(), 5u);
  // One-way delay 50 ms, 3 ms of quiet, a slice or two; 8 ms of collection
  // delay instead made it 58 ms.
  EXPECT_LE(late[2], absl::Milliseconds(50 + 3 + 3));
}

// A flood that answers input (more than two screens of output) gets one
// early reply frame, the start of the flood, not two: the second would carry
// a screen of the flood that the next frame overwrites. At 500 ms RTT (frame
// interval 250 ms) the server sends one frame in the 50 ms after the input
// reached it (kInputReplyWindow), where it sent two before.
TEST(SessionTest, AFloodAfterInputLeavesOnlyItsFirstFrameEarly) {
  SessionHarness h(/*seed=*/23, 0.0, net::WireMode::kMoshx, PathKind::kUdp,
                   {"/bin/sh", "-c", "while read x; do seq 1 3000000; echo flood-done-$x; done"},
                   [](ServerSessionOptions*) {});
  LinkParams link;
  link.delay = absl::Milliseconds(250);
  h.net_.SetLinks(h.client_host, h.server_host, link);
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->connected(); }, absl::Seconds(60)));
  (void)h.RunUntil([] { return false; }, absl::Seconds(3));  // the RTT estimate settles
  for (int i = 1; i <= 3; ++i) {
    const uint64_t before_num = h.server_->transport().remote_state_num();
    h.client_->HandleInput(absl::StrCat(i, "\r"));
    ASSERT_TRUE(h.RunUntil(
        [&] { return h.server_->transport().remote_state_num() != before_num; },
        absl::Seconds(5)));
    const uint64_t sent = h.server_->transport().stats().instructions_sent;
    (void)h.RunUntil([] { return false; }, net::SendScheduler::kInputReplyWindow);
    EXPECT_EQ(h.server_->transport().stats().instructions_sent - sent, 1u) << "round " << i;
    ASSERT_TRUE(h.RunUntil([&] { return h.ClientShows(absl::StrCat("flood-done-", i, "\n")); },
                           absl::Seconds(60)));
    (void)h.RunUntil([] { return false; }, absl::Seconds(1));
  }
}

// A key typed at the shell's prompt costs the server two states, as in mosh:
// its echo, then the pty state's return to "settled" together with the echo
// ack (the client trusts no report before that ack covers the key,
// docs/prediction.md §A.8), not a third state for the flip alone.
TEST(SessionTest, AKeyAtThePromptCostsTwoStatesItsEchoAndItsEchoAck) {
  SessionHarness h(/*seed=*/29, 0.0, net::WireMode::kMoshx);
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->connected(); }, absl::Seconds(60)));
  (void)h.RunUntil([] { return false; }, absl::Seconds(3));
  for (int i = 0; i < 5; ++i) {
    const uint64_t sent = h.server_->transport().stats().instructions_sent;
    const uint64_t before = h.server_->transport().remote_state_num();
    h.client_->HandleInput("a");
    ASSERT_TRUE(h.RunUntil([&] { return h.server_->transport().remote_state_num() != before; },
                           absl::Seconds(5)));
    const uint64_t key_num = h.server_->transport().remote_state_num();
    (void)h.RunUntil([] { return false; }, absl::Milliseconds(400));
    EXPECT_EQ(h.server_->transport().stats().instructions_sent - sent, 2u) << "key " << i;
    const auto& state = h.server_->transport().local_state();
    ASSERT_TRUE(state.pty_state().has_value());
    EXPECT_TRUE(state.pty_state()->settled) << "key " << i;
    EXPECT_GE(state.echo_ack(), key_num) << "key " << i;
  }
}

// A history backlog goes out a few batches per turn of the loop, and the
// loop turns again at once while more may go (WaitTime() zero): a key whose
// echo ack is due in up to 50 ms does not postpone the next turn.
TEST(SessionTest, TypingDoesNotPostponeTheHistoryBacklog) {
  SessionHarness h(/*seed=*/31, 0.0, net::WireMode::kMoshx, PathKind::kUdp,
                   {"/bin/sh", "-c", "read go; seq 1 40000; exec /bin/sh"},
                   [](ServerSessionOptions* o) { o->scrollback_lines = 10000; });
  ASSERT_TRUE(h.RunUntil([&] { return h.client_->connected(); }, absl::Seconds(60)));
  h.client_->HandleInput("\r");
  int backlog_turns = 0, postponed = 0;
  net::MonoTime next_key = h.net_.Now();
  (void)h.RunUntil(
      [&] {
        if (h.net_.Now() >= next_key) {  // keys keep an echo ack due
          h.client_->HandleInput("x");
          next_key = h.net_.Now() + absl::Milliseconds(20);
        }
        if (h.server_->history_has_more()) {
          ++backlog_turns;
          if (h.server_->WaitTime() > absl::ZeroDuration()) ++postponed;
        }
        return false;
      },
      absl::Seconds(4));
  ASSERT_GT(backlog_turns, 0) << "no backlog: the test shows nothing";
  EXPECT_EQ(postponed, 0) << "of " << backlog_turns << " turns with a backlog";
}

// Output that keeps coming while nobody types (top, watch) makes one state
// per screen: the pty state's return to "settled" is held back until the
// output stops for 2 s. While the user types it follows the output by
// 20 ms, or goes with the echo ack of the keys before it (50 ms after the
// newest), so the client can trust its next keystroke at once.
TEST(SessionTest, PtyStateSettlesAfterOutputStopsWhileNobodyTypes) {
  SessionHarness h(5, 0.0, net::WireMode::kMoshx, PathKind::kUdp,
                   {"/bin/sh", "-c",
                    "i=0; while [ $i -lt 70 ]; do i=$((i+1)); echo tick$i; sleep 0.15; done; "
                    "echo finished; exec /bin/sh"},
                   [](ServerSessionOptions*) {});
  auto settled = [&h] {
    const auto& pty = h.server_->transport().local_state().pty_state();
    return pty.has_value() && pty->settled;
  };
  auto ticks = [&h] {  // the newest tick on the client's screen
    const std::string text = ScreenText(h.client_->server_framebuffer());
    const size_t at = text.rfind("tick");
    return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + 4);
  };
  // Past the first 5 s of virtual time (the start counts as typing).
  const net::MonoTime begin = h.net_.Now();
  ASSERT_TRUE(h.RunUntil([&] { return h.net_.Now() - begin >= absl::Seconds(6); },
                         absl::Seconds(60)));
  const int first_tick = ticks();
  bool ever_settled = false;
  int turns = 0, turns_due = 0;  // loop turns, and those the session wanted at once
  (void)h.RunUntil(
      [&] {
        ever_settled = ever_settled || settled();
        ++turns;
        if (h.server_->WaitTime() == absl::ZeroDuration()) ++turns_due;
        return false;
      },
      absl::Seconds(1));
  ASSERT_GE(ticks(), first_tick + 3) << "the output should have gone on meanwhile";
  ASSERT_LT(ticks(), 70);
  EXPECT_FALSE(ever_settled) << "settled between screens while nobody typed";
  // Held back without spinning: a session that asked to be served at once
  // on most turns would keep a real loop busy.
  EXPECT_LT(turns_due * 4, turns) << turns_due << " of " << turns << " turns due at once";
  // The output stops: settled 2 s later.
  ASSERT_TRUE(h.RunUntil([&h] { return h.ClientShows("finished"); }, absl::Seconds(60)));
  const net::MonoTime finished = h.net_.Now();
  ASSERT_TRUE(h.RunUntil(settled, absl::Seconds(10)));
  EXPECT_GE(h.net_.Now() - finished, absl::Milliseconds(1500));
  // Typing: the echo's output settles within a frame or two.
  h.client_->HandleInput("x");
  ASSERT_TRUE(h.RunUntil([&] { return !settled(); }, absl::Seconds(5)));
  const net::MonoTime echoed = h.net_.Now();
  ASSERT_TRUE(h.RunUntil(settled, absl::Seconds(5)));
  EXPECT_LT(h.net_.Now() - echoed, absl::Milliseconds(500));
}

// A program other than the shell in the foreground (vim paged with ^F, top)
// gets one state per screen even while the user types: the client trusts a
// settled report only at the shell's prompt (docs/prediction.md §A.8), so
// the return to settled waits for 2 s without output. Back at the shell,
// typing settles again within a frame or two.
TEST(SessionTest, PtyStateStaysUnsettledWhileAJobInTheForegroundWritesAndTheUserTypes) {
  SessionHarness h(6, 0.0, net::WireMode::kMoshx, PathKind::kUdp,
                   {"/bin/sh", "-c",
                    "set -m; /bin/sh -c 'i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo tick$i; "
                    "sleep 0.15; done'; echo finished; exec /bin/sh"},
                   [](ServerSessionOptions*) {});
  auto pty = [&h] { return h.server_->transport().local_state().pty_state(); };
  auto ticks = [&h] {  // the newest tick on the client's screen
    const std::string text = ScreenText(h.client_->server_framebuffer());
    const size_t at = text.rfind("tick");
    return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + 4);
  };
  ASSERT_TRUE(h.RunUntil([&] { return ticks() >= 3; }, absl::Seconds(60)));
  ASSERT_TRUE(pty().has_value());
  ASSERT_FALSE(pty()->shell_foreground) << "the job runs in a process group of its own";
  const int first_tick = ticks();
  bool ever_settled = false;
  int keys = 0;
  net::MonoTime next_key = h.net_.Now();
  (void)h.RunUntil(
      [&] {
        if (h.net_.Now() >= next_key) {  // a key every 100 ms, as when paging
          h.client_->HandleInput("x");
          ++keys;
          next_key = h.net_.Now() + absl::Milliseconds(100);
        }
        if (pty()->settled && !ever_settled) {
          std::printf("settled at tick %d: fg %u shell %d echo %d canon %d\n", ticks(),
                      pty()->foreground, pty()->shell_foreground, pty()->echo, pty()->canonical);
        }
        ever_settled = ever_settled || pty()->settled;
        return false;
      },
      absl::Seconds(3));
  ASSERT_GE(ticks(), first_tick + 10) << "the output should have gone on meanwhile";
  ASSERT_LT(ticks(), 60);
  ASSERT_GE(keys, 20);
  EXPECT_FALSE(ever_settled) << "settled between screens of a job in the foreground";
  // The job ends; at the shell's prompt typing settles within a frame or two.
  ASSERT_TRUE(h.RunUntil([&h] { return h.ClientShows("finished"); }, absl::Seconds(60)));
  ASSERT_TRUE(h.RunUntil([&] { return pty()->shell_foreground; }, absl::Seconds(5)));
  h.client_->HandleInput("\x15");  // the x's, typed ahead, are erased
  ASSERT_TRUE(h.RunUntil([&] { return pty()->settled; }, absl::Seconds(5)));
  h.client_->HandleInput("y");
  ASSERT_TRUE(h.RunUntil([&] { return !pty()->settled; }, absl::Seconds(5)));
  const net::MonoTime echoed = h.net_.Now();
  ASSERT_TRUE(h.RunUntil([&] { return pty()->settled; }, absl::Seconds(5)));
  EXPECT_LT(h.net_.Now() - echoed, absl::Milliseconds(500));
}

}  // namespace
}  // namespace moshx::cmd
