// SshReconnect against stand-ins for ssh (/bin/sh scripts): the bridge line
// hands over a working path; a login that needs the user stops the retries
// until ReconnectInteractively(); other failures are retried with backoff.
#include "cmd/launch/ssh_reconnect.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cmd/sys/process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

// A remote bridge: its line, then whatever comes in goes back out.
const char kBridge[] = "echo 'MOSHX BRIDGE'; exec cat";

class SshReconnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto runtime = sys::ProcessRuntime::Create();
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = *std::move(runtime);
  }
  void Make(std::vector<std::string> batch, std::vector<std::string> interactive = Sh("exit 1")) {
    SshReconnect::Options o;
    o.batch_argv = std::move(batch);
    o.interactive_argv = std::move(interactive);
    o.first_retry = absl::Milliseconds(50);
    o.max_retry = absl::Milliseconds(100);
    reconnect_ = std::make_unique<SshReconnect>(
        runtime_->loop(), runtime_->clock(), o,
        [this](std::unique_ptr<net::StreamPath> p) { path_ = std::move(p); },
        [this](const std::string& note) { notes_.push_back(note); });
  }
  // Runs the loop until `done` or `limit` passed.
  template <typename F>
  void RunUntil(F done, absl::Duration limit = absl::Seconds(10)) {
    const absl::Time end = absl::Now() + limit;
    while (!done() && absl::Now() < end) {
      ASSERT_TRUE(runtime_->loop()->RunOnce(absl::Milliseconds(10)).ok());
    }
  }
  // A datagram through the new path comes back through the stand-in's cat.
  void ExpectEcho() {
    ASSERT_NE(path_, nullptr);
    std::string got;
    path_->set_receive_handler([&got](net::Datagram d) { got = d.payload; });
    ASSERT_TRUE(path_->Send("sealed bytes").ok());
    RunUntil([&got] { return !got.empty(); });
    EXPECT_EQ(got, "sealed bytes");
  }

  std::unique_ptr<sys::ProcessRuntime> runtime_;
  std::unique_ptr<SshReconnect> reconnect_;
  std::unique_ptr<net::StreamPath> path_;
  std::vector<std::string> notes_;
};

TEST_F(SshReconnectTest, TheBridgeLineHandsOverAWorkingPath) {
  Make(Sh(kBridge));
  reconnect_->PathFailed();
  RunUntil([this] { return path_ != nullptr; });
  ExpectEcho();
  EXPECT_EQ(reconnect_->reconnects(), 1u);
  EXPECT_EQ(notes_, std::vector<std::string>{"SSH connection back"});
}

TEST_F(SshReconnectTest, OtherFailuresAreRetriedWithBackoff) {
  Make(Sh("echo 'ssh: connect to host h port 22: No route to host' >&2; exit 255"));
  reconnect_->PathFailed();
  RunUntil([this] { return reconnect_->attempts() >= 3; });
  EXPECT_GE(reconnect_->attempts(), 3u);
  EXPECT_FALSE(reconnect_->needs_user());
  EXPECT_EQ(path_, nullptr);
  ASSERT_FALSE(notes_.empty());
  EXPECT_THAT(notes_[0], HasSubstr("No route to host"));
  EXPECT_THAT(notes_[0], HasSubstr("again in"));
}

TEST_F(SshReconnectTest, ALoginThatNeedsTheUserWaitsForReconnectInteractively) {
  Make(Sh("echo 'u@h: Permission denied (publickey,password).' >&2; exit 255"), Sh(kBridge));
  reconnect_->PathFailed();
  RunUntil([this] { return reconnect_->needs_user(); });
  ASSERT_TRUE(reconnect_->needs_user());
  ASSERT_FALSE(notes_.empty());
  EXPECT_THAT(notes_.back(), HasSubstr("press a key to reconnect"));
  // No retry on its own, whatever PathFailed() says.
  reconnect_->PathFailed();
  RunUntil([] { return false; }, absl::Milliseconds(300));
  EXPECT_EQ(reconnect_->attempts(), 1u);
  ASSERT_TRUE(reconnect_->ReconnectInteractively().ok());
  EXPECT_FALSE(reconnect_->needs_user());
  ExpectEcho();
}

TEST_F(SshReconnectTest, BytesAfterTheBridgeLineAreRefused) {
  Make(Sh("printf 'MOSHX BRIDGE\\nunexpected'; exec sleep 5"));
  reconnect_->PathFailed();
  RunUntil([this] { return !notes_.empty(); });
  EXPECT_EQ(path_, nullptr);
  ASSERT_FALSE(notes_.empty());
  EXPECT_THAT(notes_[0], HasSubstr("unexpected bytes"));
}

TEST_F(SshReconnectTest, NeedsUserRecognisesBatchModeRefusals) {
  EXPECT_TRUE(SshNeedsUser("u@h: Permission denied (publickey,password)."));
  EXPECT_TRUE(SshNeedsUser("Host key verification failed."));
  EXPECT_FALSE(SshNeedsUser("ssh: connect to host h port 22: Connection refused"));
}

}  // namespace
}  // namespace moshx::cmd
