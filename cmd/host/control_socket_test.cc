#include "cmd/host/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>
#include <string>

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

// Under /tmp, not $TEST_TMPDIR: Bazel's sandbox paths are longer than a Unix
// socket path may be. Removed when the test process exits.
std::string TempDir() {
  static std::vector<std::string>* made = [] {
    auto* dirs = new std::vector<std::string>;
    std::atexit([] {
      for (const std::string& d : *made) std::filesystem::remove_all(d);
    });
    return dirs;
  }();
  std::string tmpl = "/tmp/moshx-ctl-test-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  made->push_back(tmpl);
  return tmpl;
}

TEST(ControlSocketTest, DirectoryPrefersXdgRuntimeDir) {
  EXPECT_EQ(ControlDirectory("/run/user/1000", 1000), "/run/user/1000/moshx");
  EXPECT_EQ(ControlDirectory("", 1000), "/tmp/moshx-1000");
  EXPECT_EQ(ControlSocketPath("/d"), "/d/host.sock");
}

TEST(ControlSocketTest, CreatesPrivateDirectory) {
  const std::string dir = TempDir() + "/moshx";
  ASSERT_TRUE(EnsurePrivateDirectory(dir, getuid()).ok());
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(EnsurePrivateDirectory(dir, getuid()).ok());  // again: fine
}

TEST(ControlSocketTest, RefusesAnotherUsersDirectory) {
  const std::string dir = TempDir() + "/moshx";
  ASSERT_TRUE(EnsurePrivateDirectory(dir, getuid()).ok());
  absl::Status s = EnsurePrivateDirectory(dir, getuid() + 1);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_NE(s.message().find("permission denied"), absl::string_view::npos) << s;
}

TEST(ControlSocketTest, RefusesOpenModeAndSymlink) {
  const std::string base = TempDir();
  const std::string dir = base + "/moshx";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  EXPECT_TRUE(absl::IsPermissionDenied(EnsurePrivateDirectory(dir, getuid())));
  const std::string link = base + "/link";
  ASSERT_EQ(symlink(dir.c_str(), link.c_str()), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  EXPECT_TRUE(absl::IsPermissionDenied(EnsurePrivateDirectory(link, getuid())));
}

TEST(ControlSocketTest, MessagesAndDescriptorsCrossTheSocket) {
  const std::string dir = TempDir();
  const std::string path = ControlSocketPath(dir);
  auto listener = ListenControlSocket(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto client = ConnectControlSocket(path);
  ASSERT_TRUE(client.ok()) << client.status();
  sys::ScopedFd server(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(server.valid());
  auto uid = PeerUid(server.get());
  ASSERT_TRUE(uid.ok());
  EXPECT_EQ(*uid, getuid());

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  sys::ScopedFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  ASSERT_TRUE(SendControlMessage(client->get(), {"list", {"json"}}, write_end.get()).ok());
  auto got = ReceiveControlMessage(server.get(), absl::Seconds(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->message, (ControlMessage{"list", {"json"}}));
  ASSERT_TRUE(got->fd.valid());
  ASSERT_EQ(write(got->fd.get(), "z", 1), 1);  // the passed descriptor works
  char c = 0;
  ASSERT_EQ(read(read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');

  ASSERT_TRUE(SendControlMessage(server.get(), {"ok", {}}).ok());
  auto reply = ReceiveControlMessage(client->get(), absl::Seconds(5));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->message.verb, "ok");
  EXPECT_FALSE(reply->fd.valid());

  client->reset();
  EXPECT_TRUE(absl::IsUnavailable(ReceiveControlMessage(server.get(), absl::Seconds(5)).status()));
}

TEST(ControlSocketTest, ReceiveTimesOutAndRefusesGarbage) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
  sys::ScopedFd a(fds[0]), b(fds[1]);
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      ReceiveControlMessage(a.get(), absl::Milliseconds(20)).status()));
  ASSERT_EQ(write(b.get(), "garbage", 7), 7);
  EXPECT_TRUE(absl::IsInvalidArgument(ReceiveControlMessage(a.get(), absl::Seconds(5)).status()));
}

TEST(ControlSocketTest, NoHostIsNotFound) {
  const std::string path = ControlSocketPath(TempDir());
  EXPECT_TRUE(absl::IsNotFound(ConnectControlSocket(path).status()));
  // A stale socket file (its host died) is NotFound too.
  { auto l = ListenControlSocket(path); ASSERT_TRUE(l.ok()); }
  EXPECT_TRUE(absl::IsNotFound(ConnectControlSocket(path).status()));
}

TEST(ControlSocketTest, LockIsExclusive) {
  const std::string path = ControlLockPath(TempDir());
  auto first = LockFile(path, absl::Seconds(1));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = LockFile(path, absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(second.status())) << second.status();
  first->reset();
  EXPECT_TRUE(LockFile(path, absl::Milliseconds(50)).ok());
}

}  // namespace
}  // namespace moshx::cmd
