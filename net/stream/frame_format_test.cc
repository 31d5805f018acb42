#include "net/stream/frame_format.h"

#include <string>

#include "gtest/gtest.h"

namespace moshx::net::stream {
namespace {

TEST(FrameFormatTest, VarintsUseTheShortestOfFourLengths) {
  for (uint64_t v : {uint64_t{0}, uint64_t{63}, uint64_t{64}, uint64_t{16383}, uint64_t{16384},
                     uint64_t{(1u << 30) - 1}, uint64_t{1} << 30, kMaxVarint}) {
    std::string out;
    AppendVarint(&out, v);
    EXPECT_EQ(out.size(), VarintSize(v)) << v;
    out.push_back(static_cast<char>(ChunkType::kPing));
    auto parsed = ParseFrame(out);
    ASSERT_TRUE(parsed.ok()) << v;
    EXPECT_EQ(parsed->packet_number, v);
  }
}

TEST(FrameFormatTest, RoundTripsEveryChunk) {
  std::string frame;
  AppendVarint(&frame, 77);
  AckChunk ack;
  ack.ack_delay_us = 1234;
  ack.ranges = {{70, 76}, {60, 65}, {10, 10}};
  AppendAck(&frame, ack);
  EXPECT_EQ(frame.size(), VarintSize(77) + AckSize(ack));
  AppendStream(&frame, 5, 1000, "hello", false);
  AppendStream(&frame, 4, 0, "", true);
  AppendResetStream(&frame, 9, 300, 4096);
  AppendMaxData(&frame, 1 << 20);
  AppendMaxStreamData(&frame, 5, 65536);
  AppendMaxStreams(&frame, 130);
  AppendPing(&frame);

  auto parsed = ParseFrame(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->packet_number, 77u);
  ASSERT_TRUE(parsed->ack.has_value());
  EXPECT_EQ(parsed->ack->ack_delay_us, 1234u);
  ASSERT_EQ(parsed->ack->ranges.size(), 3u);
  EXPECT_EQ(parsed->ack->ranges[1].first, 60u);
  EXPECT_EQ(parsed->ack->ranges[1].last, 65u);
  EXPECT_EQ(parsed->ack->ranges[2].first, 10u);
  EXPECT_EQ(parsed->ack->ranges[2].last, 10u);
  ASSERT_EQ(parsed->chunks.size(), 7u);
  EXPECT_TRUE(parsed->ack_eliciting);
  EXPECT_EQ(parsed->chunks[0].stream_id, 5u);
  EXPECT_EQ(parsed->chunks[0].offset, 1000u);
  EXPECT_EQ(parsed->chunks[0].data, "hello");
  EXPECT_FALSE(parsed->chunks[0].fin());
  EXPECT_TRUE(parsed->chunks[1].fin());
  EXPECT_EQ(parsed->chunks[2].type, ChunkType::kResetStream);
  EXPECT_EQ(parsed->chunks[2].value, 300u);
  EXPECT_EQ(parsed->chunks[2].offset, 4096u);
  EXPECT_EQ(parsed->chunks[3].value, 1u << 20);
  EXPECT_EQ(parsed->chunks[4].value, 65536u);
  EXPECT_EQ(parsed->chunks[5].value, 130u);
  EXPECT_EQ(parsed->chunks[6].type, ChunkType::kPing);
}

TEST(FrameFormatTest, AckOnlyFrameIsNotAckEliciting) {
  std::string frame;
  AppendVarint(&frame, 1);
  AppendAck(&frame, AckChunk{0, {{0, 0}}});
  auto parsed = ParseFrame(frame);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->ack_eliciting);
}

std::string WithPn(const std::string& body) { return std::string(1, '\x01') + body; }

TEST(FrameFormatTest, RejectsMalformedFrames) {
  EXPECT_FALSE(ParseFrame("").ok());                    // no packet number
  EXPECT_FALSE(ParseFrame("\x01").ok());                // no chunks
  EXPECT_FALSE(ParseFrame(std::string("\x40", 1)).ok());  // truncated varint
  EXPECT_FALSE(ParseFrame(WithPn("\x03")).ok());        // unknown type
  EXPECT_FALSE(ParseFrame(WithPn("\x08\x01\x00\x05hi")).ok());  // data shorter than length
  EXPECT_FALSE(ParseFrame(WithPn("\x06\x01")).ok());    // truncated MAX_STREAM_DATA
  // ACK whose first range runs below zero: largest 2, first_range 3.
  EXPECT_FALSE(ParseFrame(WithPn(std::string("\x02\x02\x00\x00\x03", 5))).ok());
  // ACK whose second range runs below zero: [2,2], gap 0 -> ends at 0, length 5.
  EXPECT_FALSE(ParseFrame(WithPn(std::string("\x02\x02\x00\x01\x00\x00\x05", 7))).ok());
  // Two ACKs.
  std::string two = WithPn(std::string("\x02\x00\x00\x00\x00\x02\x00\x00\x00\x00", 10));
  EXPECT_FALSE(ParseFrame(two).ok());
  // STREAM beyond 2^62: offset max varint, length 1.
  std::string beyond;
  AppendVarint(&beyond, 0);
  beyond.push_back(0x08);
  AppendVarint(&beyond, 0);
  AppendVarint(&beyond, kMaxVarint);
  AppendVarint(&beyond, 1);
  beyond.push_back('x');
  EXPECT_FALSE(ParseFrame(beyond).ok());
}

TEST(FrameFormatTest, RejectsTooManyAckRanges) {
  std::string frame;
  AppendVarint(&frame, 0);
  frame.push_back(0x02);
  AppendVarint(&frame, 100000);
  AppendVarint(&frame, 0);
  AppendVarint(&frame, kMaxAckRanges);  // one more than allowed
  AppendVarint(&frame, 0);
  for (size_t i = 0; i < kMaxAckRanges; ++i) {
    AppendVarint(&frame, 0);
    AppendVarint(&frame, 0);
  }
  EXPECT_FALSE(ParseFrame(frame).ok());
}

}  // namespace
}  // namespace moshx::net::stream
