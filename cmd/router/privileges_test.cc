#include "cmd/router/privileges.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace moshx::cmd::router {
namespace {

std::string PasswdFile(const std::string& text) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/passwd";
  std::ofstream(path) << text;
  return path;
}

TEST(PrivilegesTest, PrefersTheRouterAccountThenNobody) {
  std::string both = PasswdFile(
      "root:x:0:0::/root:/bin/sh\n"
      "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"
      "moshx-router:x:990:990::/nonexistent:/usr/sbin/nologin\n");
  EXPECT_EQ(RouterAccount("", both)->uid, 990u);
  EXPECT_EQ(RouterAccount("nobody", both)->uid, 65534u);
  EXPECT_TRUE(absl::IsNotFound(RouterAccount("nosuch", both).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(RouterAccount("root", both).status()));
  std::string nobody_only = PasswdFile("nobody:x:65534:65534::/:/bin/false\n");
  EXPECT_EQ(RouterAccount("", nobody_only)->name, "nobody");
  EXPECT_TRUE(absl::IsNotFound(RouterAccount("", PasswdFile("root:x:0:0::/:/bin/sh\n")).status()));
}

// In a child process, so that the test runner keeps its credentials.
TEST(PrivilegesTest, DropsRootForGood) {
  sys::PasswdEntry nobody;
  nobody.name = "nobody";
  nobody.uid = 65534;
  nobody.gid = 65534;
  const bool root = geteuid() == 0;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    absl::Status s = DropPrivileges(nobody);
    if (!root) {
      // Not root to begin with: dropping must fail (EPERM), never pretend.
      _exit(s.ok() ? 3 : 0);
    }
    if (!s.ok()) _exit(1);
    _exit(getuid() == 65534 && geteuid() == 65534 && getgid() == 65534 && setuid(0) != 0 ? 0
                                                                                         : 2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace moshx::cmd::router
