#include "term/passwd.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace moshx::term {
namespace {

constexpr char kPasswd[] = "testdata/passwd/etc_passwd";

class PasswdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("SHELL");
    unsetenv("HOME");
  }
};

TEST_F(PasswdTest, FindsEntryByUid) {
  absl::StatusOr<PasswdEntry> e = LookupPasswdEntry(1000, kPasswd);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->name, "alice");  // the first line with uid 1000 wins
  EXPECT_EQ(e->gid, 1000u);
  EXPECT_EQ(e->home, "/home/alice");
  EXPECT_EQ(e->shell, "/usr/bin/fish");
}

TEST_F(PasswdTest, LoginShellComesFromPasswd) {
  setenv("SHELL", "/bin/env-shell", 1);
  EXPECT_EQ(LoginShellForUid(0, kPasswd), "/bin/bash");
  EXPECT_EQ(LoginShellForUid(1000, kPasswd), "/usr/bin/fish");
  EXPECT_EQ(LoginShellForUid(1002, kPasswd), "/bin/dash");
}

TEST_F(PasswdTest, StripsCarriageReturn) {
  EXPECT_EQ(LoginShellForUid(1004, kPasswd), "/bin/mksh");
}

TEST_F(PasswdTest, EmptyShellFieldFallsBackToEnvThenBinSh) {
  EXPECT_EQ(LoginShellForUid(1001, kPasswd), "/bin/sh");
  setenv("SHELL", "/bin/env-shell", 1);
  EXPECT_EQ(LoginShellForUid(1001, kPasswd), "/bin/env-shell");
}

TEST_F(PasswdTest, UnknownUidFallsBackToEnvThenBinSh) {
  EXPECT_EQ(LoginShellForUid(4242, kPasswd), "/bin/sh");
  setenv("SHELL", "", 1);
  EXPECT_EQ(LoginShellForUid(4242, kPasswd), "/bin/sh");
  setenv("SHELL", "/bin/env-shell", 1);
  EXPECT_EQ(LoginShellForUid(4242, kPasswd), "/bin/env-shell");
  EXPECT_TRUE(absl::IsNotFound(LookupPasswdEntry(4242, kPasswd).status()));
}

TEST_F(PasswdTest, MissingFileFallsBackAndReportsErrno) {
  absl::StatusOr<PasswdEntry> e = LookupPasswdEntry(0, "/nonexistent/passwd");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("/nonexistent/passwd"),
            absl::string_view::npos);
  EXPECT_EQ(LoginShellForUid(0, "/nonexistent/passwd"), "/bin/sh");
}

TEST_F(PasswdTest, MalformedLinesAreSkipped) {
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

TEST_F(PasswdTest, HomeDirectoryPrefersEnv) {
  EXPECT_EQ(HomeDirectoryForUid(1000, kPasswd), "/home/alice");
  EXPECT_EQ(HomeDirectoryForUid(1002, kPasswd), "/");
  EXPECT_EQ(HomeDirectoryForUid(4242, kPasswd), "/");
  setenv("HOME", "/env/home", 1);
  EXPECT_EQ(HomeDirectoryForUid(1000, kPasswd), "/env/home");
}

}  // namespace
}  // namespace moshx::term
