#include "cmd/launch/ssh_channel.h"

#include <signal.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::HasSubstr;

TEST(SshChannelTest, TalksBothWaysAndSeesEndOfInput) {
  auto c = SshChannel::Start({"/bin/sh", "-c", "read -r x; echo \"got $x\"; wc -c; echo err >&2"});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Write("hello\n").ok());
  EXPECT_EQ(*(*c)->ReadLine(), "got hello");
  ASSERT_TRUE((*c)->Write(std::string(200000, 'x')).ok());  // more than a socket buffer
  (*c)->CloseInput();
  EXPECT_EQ(*(*c)->ReadLine(), "200000");
  EXPECT_EQ((*c)->ReadLine().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*c)->Wait(), 0);
  EXPECT_EQ((*c)->ErrorOutput(), "err\n");
}

TEST(SshChannelTest, AnOverlongLineIsRefusedNotBuffered) {
  // A line just at the limit passes; an endless one stops at the limit.
  auto c = SshChannel::Start(
      {"/bin/sh", "-c", "head -c 16384 /dev/zero | tr '\\0' a; echo; yes | tr -d '\\n'"});
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<std::string> line = (*c)->ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->size(), SshChannel::kMaxLineBytes);
  line = (*c)->ReadLine();
  EXPECT_EQ(line.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(line.status().message(), HasSubstr("longer than 16384 bytes"));
}

TEST(SshChannelTest, ASilentRemoteTimesOut) {
  auto c = SshChannel::Start({"/bin/sh", "-c", "printf partial; exec sleep 30"});
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->set_read_timeout(absl::Milliseconds(300));
  absl::StatusOr<std::string> line = (*c)->ReadLine();
  EXPECT_EQ(line.status().code(), absl::StatusCode::kDeadlineExceeded) << line.status();
  // The destructor kills and reaps the child.
}

TEST(SshChannelTest, LastLineWithoutNewline) {
  auto c = SshChannel::Start({"/bin/sh", "-c", "printf 'a\\nb'"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*(*c)->ReadLine(), "a");
  EXPECT_EQ(*(*c)->ReadLine(), "b");
  EXPECT_FALSE((*c)->ReadLine().ok());
}

TEST(SshChannelTest, WritingToAGoneChildIsAnErrorNotSigpipe) {
  auto c = SshChannel::Start({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->ReadLine().status().code(), absl::StatusCode::kUnavailable);
  absl::Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) s = (*c)->Write(std::string(65536, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*c)->Wait(), 3);
}

// The child answers without reading (as the bootstrap script does when the
// destination fails mid-upload) while still holding its stdin open.
TEST(SshChannelTest, AnswerDuringAWriteAbortsIt) {
  auto c = SshChannel::Start({"/bin/sh", "-c", "echo gave up; sleep 5"});
  ASSERT_TRUE(c.ok());
  absl::Status s = (*c)->Write(std::string(8 << 20, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(*(*c)->ReadLine(), "gave up");
}

TEST(SshChannelTest, MissingProgramIsNotFound) {
  auto c = SshChannel::Start({"/nonexistent/ssh"});
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsNotFound(c.status())) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("cannot run /nonexistent/ssh"));
}

TEST(SshChannelTest, DestructorKillsARunningChild) {
  pid_t pid;
  {
    auto c = SshChannel::Start({"/bin/sleep", "30"});
    ASSERT_TRUE(c.ok());
    pid = (*c)->pid();
  }
  EXPECT_NE(kill(pid, 0), 0);  // reaped: no such process
}

}  // namespace
}  // namespace moshx::cmd
