#include "cmd/host/relay_frame.h"

#include <string>

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(RelayFrameTest, DatagramRoundTripsWithAddressAndEcn) {
  for (const char* ip : {"192.0.2.7", "2001:db8::1"}) {
    const net::Address from = *net::Address::Parse(ip, 51000);
    std::string bytes;
    ASSERT_TRUE(EncodeRelayDatagram(from, "ciphertext", true, &bytes).ok());
    absl::StatusOr<RelayFrame> frame = ParseRelayFrame(bytes);
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->type, kRelayDatagram);
    EXPECT_EQ(frame->address, from);
    EXPECT_TRUE(frame->congestion_experienced);
    EXPECT_EQ(frame->datagram, "ciphertext");
  }
}

TEST(RelayFrameTest, DatagramViewPointsIntoTheFrame) {
  std::string bytes;
  ASSERT_TRUE(
      EncodeRelayDatagram(*net::Address::Parse("127.0.0.1", 9), "abc", false, &bytes).ok());
  absl::StatusOr<RelayDatagramView> view = ParseRelayDatagram(bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->datagram.data(), bytes.data() + kRelayDatagramHeaderSize);
  EXPECT_FALSE(view->congestion_experienced);
}

TEST(RelayFrameTest, ControlRoundTrips) {
  const ControlMessage m{"attach", {"key=abc", "connection_id=42", "client="}};
  absl::StatusOr<std::string> bytes = EncodeRelayControl(m);
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<RelayFrame> frame = ParseRelayFrame(*bytes);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->type, kRelayControl);
  EXPECT_EQ(frame->control, m);
}

TEST(RelayFrameTest, RefusesEmptyAndOversizeDatagrams) {
  std::string bytes;
  const net::Address a = *net::Address::Parse("127.0.0.1", 9);
  EXPECT_FALSE(EncodeRelayDatagram(a, "", false, &bytes).ok());
  EXPECT_FALSE(EncodeRelayDatagram(a, std::string(net::kMaxReceiveSize + 1, 'x'), false, &bytes)
                   .ok());
  EXPECT_TRUE(EncodeRelayDatagram(a, std::string(net::kMaxReceiveSize, 'x'), false, &bytes).ok());
  EXPECT_FALSE(ParseRelayFrame(bytes + "y").ok());
  EXPECT_FALSE(ParseRelayFrame(bytes.substr(0, kRelayDatagramHeaderSize)).ok());
}

TEST(RelayFrameTest, RefusesMalformedHeaders) {
  std::string good;
  ASSERT_TRUE(
      EncodeRelayDatagram(*net::Address::Parse("10.0.0.1", 80), "x", false, &good).ok());
  EXPECT_FALSE(ParseRelayFrame("").ok());
  EXPECT_FALSE(ParseRelayFrame("Zjunk").ok());
  std::string bad_family = good;
  bad_family[1] = 5;
  EXPECT_FALSE(ParseRelayFrame(bad_family).ok());
  std::string padding = good;
  padding[2 + 4] = 1;  // after the IPv4 address
  EXPECT_FALSE(ParseRelayFrame(padding).ok());
  std::string flags = good;
  flags[20] = 2;
  EXPECT_FALSE(ParseRelayFrame(flags).ok());
  EXPECT_FALSE(ParseRelayFrame("CMXC1").ok());
}

}  // namespace
}  // namespace moshx::cmd
