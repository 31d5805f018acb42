#include "net/testing/counter_state.h"

#include "gtest/gtest.h"

namespace moshx::net::testing {
namespace {

TEST(CounterStateTest, DiffRoundTrips) {
  CounterState a(3), b(10);
  b.set_padding(100);
  std::string d = b.DiffFrom(a);
  EXPECT_EQ(d.size(), 20u + 100u);
  ASSERT_TRUE(a.ApplyDiff(d).ok());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.DiffFrom(b), "");
}

TEST(CounterStateTest, ApplyingTwiceOrToWrongBaseFails) {
  CounterState a(3), b(10);
  std::string d = b.DiffFrom(a);
  ASSERT_TRUE(a.ApplyDiff(d).ok());
  EXPECT_EQ(a.ApplyDiff(d).code(), absl::StatusCode::kFailedPrecondition);
  CounterState c(4);
  EXPECT_FALSE(c.ApplyDiff(d).ok());
}

TEST(CounterStateTest, RejectsBackwardsShortAndCorruptDiffs) {
  CounterState hi(10), lo(3);
  CounterState target = hi;
  EXPECT_FALSE(target.ApplyDiff(lo.DiffFrom(hi)).ok());
  EXPECT_FALSE(target.ApplyDiff("short").ok());
  CounterState p(11);
  p.set_padding(16);
  std::string d = p.DiffFrom(hi);
  d.back() ^= 1;
  EXPECT_FALSE(target.ApplyDiff(d).ok());
}

TEST(CounterStateTest, InitDiffBuildsFromInitialState) {
  CounterState s(42);
  CounterState fresh;
  ASSERT_TRUE(fresh.ApplyDiff(s.InitDiff()).ok());
  EXPECT_EQ(fresh, s);
}

}  // namespace
}  // namespace moshx::net::testing
