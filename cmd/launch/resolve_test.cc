#include "cmd/launch/resolve.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(ResolveTest, NumericAddressesOfEitherFamily) {
  auto v4 = Resolve("127.0.0.1", "prefer-inet");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->ToString(), "127.0.0.1:0");
  auto v6 = Resolve("::1", "inet6");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->ToString(), "[::1]:0");
}

TEST(ResolveTest, AFamilyTheNameLacksIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(Resolve("127.0.0.1", "inet6").status()));
  EXPECT_TRUE(absl::IsNotFound(Resolve("", "inet").status()));
}

TEST(SshHostNameTest, FallsBackToTheDestinationsHostPart) {
  // `false -G ...` fails, so the host part of the destination is used.
  EXPECT_EQ(SshHostName({"false"}, "me@example.invalid"), "example.invalid");
  EXPECT_EQ(SshHostName({"/nonexistent/ssh"}, "host"), "host");
}

TEST(SshHostNameTest, ReadsTheHostnameLineOfSshG) {
  // A stand-in for `ssh -G` that prints what ssh would.
  EXPECT_EQ(SshHostName({"/bin/sh", "-c", "echo user me; echo hostname real.example", "sh"},
                        "alias"),
            "real.example");
}

TEST(SshHostNameTest, SaysWhetherSshGoesThroughAProxy) {
  auto ask = [](const std::string& lines, bool* proxied) {
    return SshHostName({"/bin/sh", "-c", "printf '" + lines + "'", "sh"}, "alias", proxied);
  };
  bool proxied = true;
  EXPECT_EQ(ask("hostname inner\\nproxyusefdpass no\\n", &proxied), "inner");
  EXPECT_FALSE(proxied);
  EXPECT_EQ(ask("hostname inner\\nproxyjump bastion\\n", &proxied), "inner");
  EXPECT_TRUE(proxied);
  ask("proxycommand nc %%h %%p\\nhostname inner\\n", &proxied);
  EXPECT_TRUE(proxied);
  ask("hostname inner\\nproxycommand none\\n", &proxied);
  EXPECT_FALSE(proxied);
  proxied = true;
  SshHostName({"false"}, "host", &proxied);  // ssh -G failed: no proxy known
  EXPECT_FALSE(proxied);
}

TEST(SshHostNameTest, ADestinationBeginningWithADashIsNoOption) {
  // A stand-in that answers only when the destination follows "-G --".
  EXPECT_EQ(SshHostName({"/bin/sh", "-c",
                         "[ \"$1 $2\" = \"-G --\" ] && echo hostname \"$3\"", "sh"},
                        "-oProxyCommand=x"),
            "-oProxyCommand=x");
}

}  // namespace
}  // namespace moshx::cmd
