#include "cmd/sys/passwd.h"

#include "gtest/gtest.h"

namespace moshx::sys {
namespace {

constexpr char kPasswd[] = "testdata/passwd/etc_passwd";
constexpr char kEnvShell[] = "/bin/env-shell";  // what $SHELL would say

TEST(PasswdTest, FindsEntryByUid) {
  absl::StatusOr<PasswdEntry> e = LookupPasswdEntry(1000, kPasswd);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->name, "alice");  // the first line with uid 1000 wins
  EXPECT_EQ(e->gid, 1000u);
  EXPECT_EQ(e->home, "/home/alice");
  EXPECT_EQ(e->shell, "/usr/bin/fish");
}

TEST(PasswdTest, FindsEntryByName) {
  absl::StatusOr<PasswdEntry> e = LookupPasswdEntryByName("alice", kPasswd);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->uid, 1000u);
  EXPECT_EQ(e->home, "/home/alice");
  absl::StatusOr<PasswdEntry> none = LookupPasswdEntryByName("mallory", kPasswd);
  EXPECT_TRUE(absl::IsNotFound(none.status())) << none.status();
  EXPECT_FALSE(FindPasswdEntryByName("#alice:x:1:1::/:/bin/sh\n", "#alice").has_value());
}

TEST(PasswdTest, LoginShellComesFromPasswd) {
  EXPECT_EQ(LoginShellForUid(0, kPasswd, kEnvShell), "/bin/bash");
  EXPECT_EQ(LoginShellForUid(1000, kPasswd, kEnvShell), "/usr/bin/fish");
  EXPECT_EQ(LoginShellForUid(1002, kPasswd, kEnvShell), "/bin/dash");
}

TEST(PasswdTest, StripsCarriageReturn) {
  EXPECT_EQ(LoginShellForUid(1004, kPasswd, ""), "/bin/mksh");
}

TEST(PasswdTest, EmptyShellFieldFallsBackToEnvThenBinSh) {
  EXPECT_EQ(LoginShellForUid(1001, kPasswd, ""), "/bin/sh");
  EXPECT_EQ(LoginShellForUid(1001, kPasswd, kEnvShell), kEnvShell);
}

TEST(PasswdTest, UnknownUidFallsBackToEnvThenBinSh) {
  EXPECT_EQ(LoginShellForUid(4242, kPasswd, ""), "/bin/sh");
  EXPECT_EQ(LoginShellForUid(4242, kPasswd, kEnvShell), kEnvShell);
  EXPECT_TRUE(absl::IsNotFound(LookupPasswdEntry(4242, kPasswd).status()));
}

TEST(PasswdTest, MissingFileFallsBackAndReportsErrno) {
  absl::StatusOr<PasswdEntry> e = LookupPasswdEntry(0, "/nonexistent/passwd");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("/nonexistent/passwd"),
            absl::string_view::npos);
  EXPECT_EQ(LoginShellForUid(0, "/nonexistent/passwd", ""), "/bin/sh");
}

TEST(PasswdTest, MalformedLinesAreSkipped) {
  EXPECT_FALSE(FindPasswdEntry("x:1:2\n", 1).has_value());
  EXPECT_FALSE(FindPasswdEntry("x:x:1:2:g:h:s:extra\n", 1).has_value());
  EXPECT_FALSE(FindPasswdEntry("x:x:-1:2:g:h:s\n", 1).has_value());
  EXPECT_FALSE(FindPasswdEntry("x:x::2:g:h:s\n", 0).has_value());
  EXPECT_FALSE(FindPasswdEntry(":x:7:2:g:h:s\n", 7).has_value());
  EXPECT_FALSE(FindPasswdEntry("#c:x:7:2:g:h:s\n", 7).has_value());
  EXPECT_FALSE(FindPasswdEntry("", 0).has_value());
  std::optional<PasswdEntry> e =
      FindPasswdEntry("bad\n\nok:x:7:8:g:/h:/s", 7);  // no final newline
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->shell, "/s");
  EXPECT_FALSE(FindPasswdEntry("baduid:x:notanumber:100::/h:/bin/zsh", 0));
}

TEST(PasswdTest, HomeDirectoryPrefersEnv) {
  EXPECT_EQ(HomeDirectoryForUid(1000, kPasswd, ""), "/home/alice");
  EXPECT_EQ(HomeDirectoryForUid(1002, kPasswd, ""), "/");
  EXPECT_EQ(HomeDirectoryForUid(4242, kPasswd, ""), "/");
  EXPECT_EQ(HomeDirectoryForUid(1000, kPasswd, "/env/home"), "/env/home");
}

}  // namespace
}  // namespace moshx::sys
