#include "cmd/launch/subprocess.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(SubprocessTest, CapturesStdoutStderrAndExitCode) {
  auto r = RunAndCapture({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
}

TEST(SubprocessTest, ReturnsOnceADetachedChildClosedItsOutput) {
  // The grandchild keeps running but closes stdout/stderr, like `moshx serve`.
  auto r = RunAndCapture(
      {"/bin/sh", "-c", "echo CONNECT; (sleep 30 >/dev/null 2>&1 </dev/null &); exit 0"},
      {}, absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "CONNECT\n");
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  auto r = RunAndCapture({"/nonexistent/moshx-no-such-program"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
}

TEST(SubprocessTest, TimeoutKillsTheChild) {
  auto r = RunAndCapture({"/bin/sleep", "30"}, {}, absl::Milliseconds(200));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status()));
}

TEST(SubprocessTest, ExtraEnvironmentReachesTheChild) {
  auto r = RunAndCapture({"/bin/sh", "-c", "echo $MOSHX_TEST_VAR"}, {"MOSHX_TEST_VAR=yes"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "yes\n");
}

TEST(SubprocessTest, StdinIsDevNull) {
  auto r = RunAndCapture({"/bin/sh", "-c", "cat; echo done"}, {}, absl::Seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "done\n");
}

}  // namespace
}  // namespace moshx::cmd
