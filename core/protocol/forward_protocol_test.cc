#include "core/protocol/forward_protocol.h"

#include "gtest/gtest.h"

namespace moshx::protocol {
namespace {

OpenRequest RoundTrip(const OpenRequest& r) {
  std::string wire = EncodeOpenRequest(r) + "trailing data";
  auto body = TakeMessage(&wire);
  EXPECT_TRUE(body.ok() && body->has_value());
  EXPECT_EQ(wire, "trailing data");
  auto parsed = ParseOpenRequest(**body);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *parsed;
}

TEST(ForwardProtocolTest, RequestsRoundTrip) {
  OpenRequest c{OpenKind::kConnect, "db.internal", 5432, 0};
  OpenRequest got = RoundTrip(c);
  EXPECT_EQ(got.kind, OpenKind::kConnect);
  EXPECT_EQ(got.host, "db.internal");
  EXPECT_EQ(got.port, 5432);
  OpenRequest l = RoundTrip({OpenKind::kListen, "*", 2222, 7});
  EXPECT_EQ(l.host, "*");
  EXPECT_EQ(l.listener, 7u);
  EXPECT_EQ(RoundTrip({OpenKind::kReverse, "", 0, 70000}).listener, 70000u);
  EXPECT_EQ(RoundTrip({OpenKind::kAgent, "", 0, 0}).kind, OpenKind::kAgent);
  EXPECT_EQ(RoundTrip({OpenKind::kAgentListen, "", 0, 0}).kind, OpenKind::kAgentListen);
}

TEST(ForwardProtocolTest, ReplyRoundTrips) {
  std::string wire = EncodeOpenReply({OpenStatus::kConnectionRefused, "connect to db:5432"});
  auto body = TakeMessage(&wire);
  ASSERT_TRUE(body.ok() && body->has_value());
  auto reply = ParseOpenReply(**body);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, OpenStatus::kConnectionRefused);
  EXPECT_EQ(reply->message, "connect to db:5432");
}

TEST(ForwardProtocolTest, WaitsForWholeMessagesAndRejectsBadLengths) {
  std::string wire = EncodeOpenRequest({OpenKind::kAgent, "", 0, 0});
  std::string partial = wire.substr(0, 3);
  auto none = TakeMessage(&partial);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::string zero("\0\0", 2);
  EXPECT_FALSE(TakeMessage(&zero).ok());
  std::string huge("\xff\xff", 2);
  EXPECT_FALSE(TakeMessage(&huge).ok());
}

TEST(ForwardProtocolTest, RejectsMalformedBodies) {
  EXPECT_FALSE(ParseOpenRequest("").ok());
  EXPECT_FALSE(ParseOpenRequest(std::string("\x02\x01", 2)).ok());         // version 2
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x09", 2)).ok());         // kind 9
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x01\x05" "ab", 5)).ok());   // short host
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x01\x00\x00\x50", 5)).ok());  // empty host
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x01\x01" "x\x00\x00", 6)).ok());  // port 0
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x04" "z", 3)).ok());        // trailing byte
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x05" "z", 3)).ok());        // trailing byte
  EXPECT_FALSE(ParseOpenRequest(std::string("\x01\x06", 2)).ok());            // kind 6
  EXPECT_FALSE(ParseOpenReply(std::string("\x09\x00", 2)).ok());
  EXPECT_FALSE(ParseOpenReply(std::string("\x00\x05" "x", 3)).ok());
}

}  // namespace
}  // namespace moshx::protocol
