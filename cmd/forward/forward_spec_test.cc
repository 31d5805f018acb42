#include "cmd/forward/forward_spec.h"

#include "gtest/gtest.h"

namespace moshx::cmd::forward {
namespace {

TEST(ForwardSpecTest, ParsesTheSshForms) {
  auto l = ParseForwardSpec(ForwardKind::kLocal, "8080:web:80");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->bind_address, "localhost");
  EXPECT_EQ(l->port, 8080);
  EXPECT_EQ(l->host, "web");
  EXPECT_EQ(l->host_port, 80);

  auto r = ParseForwardSpec(ForwardKind::kRemote, "0.0.0.0:2222:localhost:22");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bind_address, "0.0.0.0");
  EXPECT_EQ(r->port, 2222);

  auto all = ParseForwardSpec(ForwardKind::kLocal, ":8080:web:80");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->binds_all());

  auto d = ParseForwardSpec(ForwardKind::kDynamic, "1080");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 1080);
  EXPECT_TRUE(d->host.empty());
  auto d2 = ParseForwardSpec(ForwardKind::kDynamic, "*:1080");
  ASSERT_TRUE(d2.ok());
  EXPECT_TRUE(d2->binds_all());
}

TEST(ForwardSpecTest, TakesIpv6InBrackets) {
  auto l = ParseForwardSpec(ForwardKind::kLocal, "[::1]:8080:[2001:db8::5]:80");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->bind_address, "::1");
  EXPECT_EQ(l->host, "2001:db8::5");
  EXPECT_EQ(l->ToString(), "-L [::1]:8080:[2001:db8::5]:80");
  auto again = ParseForwardSpec(ForwardKind::kLocal, l->ToString().substr(3));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *l);
}

TEST(ForwardSpecTest, RejectsMalformedSpecsWithTheOption) {
  for (const char* bad : {"", "8080", "8080:web", "8080:web:", "0:web:80", "70000:web:80",
                          "8080::80", "a:b:c:d:e", "[::1:8080:web:80", "x:web:80"}) {
    auto s = ParseForwardSpec(ForwardKind::kLocal, bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.status().message().substr(0, 3), "-L ") << s.status();
    }
  }
  EXPECT_FALSE(ParseForwardSpec(ForwardKind::kDynamic, "a:b:c").ok());
  EXPECT_FALSE(ParseForwardSpec(ForwardKind::kDynamic, "0").ok());
}

}  // namespace
}  // namespace moshx::cmd::forward
