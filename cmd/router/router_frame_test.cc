#include "cmd/router/router_frame.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace moshx::cmd::router {
namespace {

net::Address V4(const char* ip, uint16_t port) { return *net::Address::Parse(ip, port); }

TEST(RouterFrameTest, IdFramesAreTypeThenBigEndianId) {
  EXPECT_EQ(absl::BytesToHexString(*EncodeFrame(ClaimFrame(0x0102030405060708))),
            "430102030405060708");
  EXPECT_EQ(absl::BytesToHexString(*EncodeFrame(ForgetFrame(1))), "460000000000000001");
  EXPECT_EQ(absl::BytesToHexString(*EncodeFrame(ClaimedFrame(2))), "410000000000000002");
  EXPECT_EQ(absl::BytesToHexString(*EncodeFrame(RefusedFrame(3, RefuseReason::kUserFull))),
            "4e000000000000000303");
}

TEST(RouterFrameTest, DatagramFrameLayout) {
  std::string bytes = *EncodeFrame(DatagramFrame(V4("192.0.2.1", 0xEA61), "xyz", true));
  EXPECT_EQ(absl::BytesToHexString(bytes),
            "4404c0000201000000000000000000000000ea6101"
            "78797a");
}

TEST(RouterFrameTest, EveryFrameRoundTrips) {
  for (const Frame& f :
       {ClaimFrame(~uint64_t{0}), ForgetFrame(7), ClaimedFrame(8),
        RefusedFrame(9, RefuseReason::kOtherUser), RefusedFrame(9, RefuseReason::kTableFull),
        DatagramFrame(V4("10.0.0.1", 1), std::string(net::kMaxReceiveSize, 'a')),
        DatagramFrame(*net::Address::Parse("2001:db8::5", 60001), "d", true),
        HelloFrame(V4("0.0.0.0", 60001)), HelloFrame(*net::Address::Parse("::", 60002))}) {
    absl::StatusOr<std::string> bytes = EncodeFrame(f);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<Frame> back = ParseFrame(*bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, f);
  }
}

TEST(RouterFrameTest, RefusesDatagramsOfNoOrTooManyBytes) {
  EXPECT_FALSE(EncodeFrame(DatagramFrame(V4("10.0.0.1", 1), "")).ok());
  EXPECT_FALSE(
      EncodeFrame(DatagramFrame(V4("10.0.0.1", 1), std::string(net::kMaxReceiveSize + 1, 'a')))
          .ok());
}

TEST(RouterFrameTest, RejectsMalformedFramesWithAReason) {
  std::string good = *EncodeFrame(DatagramFrame(V4("10.0.0.1", 1), "abc"));
  std::string bad_family = good;
  bad_family[1] = 5;
  std::string padded_v4 = good;
  padded_v4[10] = 1;
  std::string bad_flags = good;
  bad_flags[20] = 2;
  struct Case {
    std::string bytes;
    std::string says;
  } cases[] = {
      {"", "empty"},
      {"C1234567", "8 bytes, want 9"},
      {std::string("C12345678") + "9", "10 bytes"},
      {std::string("N12345678") + '\x04', "reason 4"},
      {std::string("N12345678") + '\x00', "reason 0"},
      {good.substr(0, kDatagramHeaderSize), "'D'"},
      {bad_family, "family 5"},
      {padded_v4, "padding"},
      {bad_flags, "flags 2"},
      {"Zxxxxxxxx", "unknown type 0x5a"},
      {*EncodeFrame(HelloFrame(V4("10.0.0.1", 1))) + "x", "'H': 21 bytes, want 20"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Frame> f = ParseFrame(c.bytes);
    ASSERT_FALSE(f.ok()) << c.says;
    EXPECT_NE(f.status().message().find(c.says), absl::string_view::npos) << f.status();
  }
}

}  // namespace
}  // namespace moshx::cmd::router
