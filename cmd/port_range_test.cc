#include "cmd/port_range.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

void ExpectRange(absl::string_view text, uint16_t low, uint16_t high) {
  auto r = ParsePortRange(text);
  ASSERT_TRUE(r.ok()) << text << ": " << r.status();
  EXPECT_EQ(r->low, low) << text;
  EXPECT_EQ(r->high, high) << text;
}

void ExpectError(absl::string_view text, absl::string_view message) {
  auto r = ParsePortRange(text);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.status().message(), message) << text;
}

TEST(PortRangeTest, AcceptsSinglePortsAndRanges) {
  ExpectRange("60001", 60001, 60001);
  ExpectRange("0", 0, 0);
  ExpectRange("60001:60999", 60001, 60999);
  ExpectRange("1:65535", 1, 65535);
  ExpectRange("5000:5000", 5000, 5000);
}

TEST(PortRangeTest, RejectsWithMoshServersMessages) {
  ExpectError("abc", "Invalid port number (abc)");
  ExpectError("", "Invalid port number ()");
  ExpectError("-1", "Invalid port number (-1)");
  ExpectError("70000", "Port number 70000 outside valid range [0..65535]");
  ExpectError("x:2", "Invalid low port number (x)");
  ExpectError("70000:2", "Low port number 70000 outside valid range [0..65535]");
  ExpectError("1:y", "Invalid high port number (y)");
  ExpectError("1:", "Invalid high port number ()");
  ExpectError("1:70000", "High port number 70000 outside valid range [0..65535]");
  ExpectError("61000:60000", "Low port 61000 greater than high port 60000");
  ExpectError("0:100", "Low port 0 incompatible with port ranges");
  ExpectError("1:2:3", "Invalid high port number (2:3)");
  ExpectError("99999999999999999999", "Invalid port number (99999999999999999999)");
}

}  // namespace
}  // namespace moshx::cmd
