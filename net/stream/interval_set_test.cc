#include "net/stream/interval_set.h"

#include <set>
#include <random>

#include "gtest/gtest.h"

namespace moshx::net::stream {
namespace {

TEST(IntervalSetTest, MergesTouchingAndOverlappingRanges) {
  IntervalSet s;
  s.Add(10, 20);
  s.Add(20, 30);
  s.Add(5, 12);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.First()->first, 5u);
  EXPECT_EQ(s.First()->second, 30u);
  s.Add(40, 50);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.ContiguousEnd(5), 30u);
  EXPECT_EQ(s.ContiguousEnd(30), 30u);
  EXPECT_TRUE(s.Contains(45));
  EXPECT_FALSE(s.Contains(30));
}

TEST(IntervalSetTest, RemoveSplitsAndTrims) {
  IntervalSet s;
  s.Add(0, 100);
  s.Remove(40, 60);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_FALSE(s.Contains(50));
  EXPECT_TRUE(s.Contains(39));
  EXPECT_TRUE(s.Contains(60));
  s.Remove(0, 40);
  EXPECT_EQ(s.First()->first, 60u);
  s.Remove(90, 200);
  EXPECT_EQ(s.First()->second, 90u);
  s.RemoveLowest();
  EXPECT_TRUE(s.empty());
}

TEST(IntervalSetTest, AgreesWithAPlainSetUnderRandomOperations) {
  std::mt19937 rng(3);
  IntervalSet s;
  std::set<uint64_t> model;
  for (int i = 0; i < 5000; ++i) {
    uint64_t a = rng() % 200, b = a + rng() % 20;
    if (rng() % 3 == 0) {
      s.Remove(a, b);
      for (uint64_t v = a; v < b; ++v) model.erase(v);
    } else {
      s.Add(a, b);
      for (uint64_t v = a; v < b; ++v) model.insert(v);
    }
    uint64_t probe = rng() % 220;
    ASSERT_EQ(s.Contains(probe), model.count(probe) > 0) << i;
  }
  uint64_t prev_end = 0;
  bool first = true;
  for (const auto& [start, end] : s.ranges()) {
    EXPECT_LT(start, end);
    if (!first) {
      EXPECT_GT(start, prev_end);  // disjoint and not touching
    }
    prev_end = end;
    first = false;
  }
}

}  // namespace
}  // namespace moshx::net::stream
