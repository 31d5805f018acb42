#include "cmd/router/route_table.h"

#include "gtest/gtest.h"

namespace moshx::cmd::router {
namespace {

net::Address Addr(uint16_t port) { return *net::Address::Parse("192.0.2.7", port); }

TEST(RouteTableTest, RoutesAClaimedIdToItsHost) {
  RouteTable t;
  t.AddHost(1, 1000);
  ASSERT_TRUE(t.Claim(1, 42).ok());
  EXPECT_EQ(t.Route(42, Addr(5000)), std::optional<HostId>(1));
  EXPECT_EQ(t.Route(43, Addr(5000)), std::nullopt);
  EXPECT_EQ(t.id_count(), 1u);
}

TEST(RouteTableTest, AUserCannotClaimAnotherUsersId) {
  RouteTable t;
  t.AddHost(1, 1000);  // user A
  t.AddHost(2, 1001);  // user B
  ASSERT_TRUE(t.Claim(1, 42).ok());
  absl::Status s = t.Claim(2, 42);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(t.owner(42), std::optional<HostId>(1));
  // Nor can B forget it for A.
  t.Forget(2, 42);
  EXPECT_EQ(t.owner(42), std::optional<HostId>(1));
}

TEST(RouteTableTest, TheSameUsersNewHostTakesTheIdOver) {
  RouteTable t;
  t.AddHost(1, 1000);
  t.AddHost(2, 1000);  // the user's host, restarted, before the old connection ended
  ASSERT_TRUE(t.Claim(1, 42).ok());
  ASSERT_TRUE(t.Claim(2, 42).ok());
  EXPECT_EQ(t.owner(42), std::optional<HostId>(2));
  t.RemoveHost(1);  // the old connection ends: the id stays with the new host
  EXPECT_EQ(t.owner(42), std::optional<HostId>(2));
  EXPECT_EQ(t.ids_of_user(1000), 1u);
}

TEST(RouteTableTest, AHostsIdsGoWithIt) {
  RouteTable t;
  t.AddHost(1, 1000);
  ASSERT_TRUE(t.Claim(1, 1).ok());
  ASSERT_TRUE(t.Claim(1, 2).ok());
  t.RemoveHost(1);
  EXPECT_EQ(t.id_count(), 0u);
  EXPECT_EQ(t.ids_of_user(1000), 0u);
  EXPECT_EQ(t.Route(1, Addr(1)), std::nullopt);
  EXPECT_TRUE(absl::IsFailedPrecondition(t.Claim(1, 3)));
}

TEST(RouteTableTest, BoundedInAllAndPerUser) {
  RouteTable t(RouteLimits{/*max_ids=*/5, /*max_ids_per_user=*/3});
  t.AddHost(1, 1000);
  t.AddHost(2, 1001);
  for (uint64_t id = 0; id < 3; ++id) ASSERT_TRUE(t.Claim(1, id).ok());
  absl::Status s = t.Claim(1, 3);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_NE(s.message().find("this user"), absl::string_view::npos) << s;
  // Another user still has room, up to the table's limit.
  ASSERT_TRUE(t.Claim(2, 10).ok());
  ASSERT_TRUE(t.Claim(2, 11).ok());
  s = t.Claim(2, 12);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_NE(s.message().find("the router"), absl::string_view::npos) << s;
  // Re-claiming an id already held is not a new one.
  EXPECT_TRUE(t.Claim(1, 0).ok());
  t.Forget(1, 0);
  EXPECT_TRUE(t.Claim(1, 3).ok());
}

TEST(RouteTableTest, RepliesOnlyUnderOwnIdsToRecentAddresses) {
  RouteTable t;
  t.AddHost(1, 1000);
  t.AddHost(2, 1001);
  ASSERT_TRUE(t.Claim(1, 42).ok());
  ASSERT_TRUE(t.Claim(2, 43).ok());
  EXPECT_FALSE(t.MaySend(1, 42, Addr(5000)));  // nothing came from there yet
  t.Route(42, Addr(5000));
  EXPECT_TRUE(t.MaySend(1, 42, Addr(5000)));
  EXPECT_FALSE(t.MaySend(2, 42, Addr(5000)));  // not B's id
  EXPECT_FALSE(t.MaySend(1, 43, Addr(5000)));  // nor under B's id
  // The client roams through more addresses than are remembered.
  for (uint16_t p = 5001; p <= 5000 + RouteTable::kRecentAddresses; ++p) t.Route(42, Addr(p));
  EXPECT_FALSE(t.MaySend(1, 42, Addr(5000)));
  EXPECT_TRUE(t.MaySend(1, 42, Addr(5000 + RouteTable::kRecentAddresses)));
}

}  // namespace
}  // namespace moshx::cmd::router
