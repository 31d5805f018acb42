#include "net/fragment.h"

#include <algorithm>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "net/packet.h"

namespace moshx::net {
namespace {

// A diff that does not compress, so it needs several fragments.
Instruction BigInstruction(size_t diff_size, uint64_t new_num = 7) {
  Instruction in;
  in.old_num = 3;
  in.new_num = new_num;
  in.ack_num = 2;
  std::mt19937_64 rng(42);
  in.diff.resize(diff_size);
  for (char& c : in.diff) c = static_cast<char>(rng());
  in.chaff = "ch";
  return in;
}

std::string FragmentBytes(uint64_t id, uint16_t number, bool final, std::string contents) {
  return Fragment{id, number, final, std::move(contents)}.Encode();
}

class FragmentModeTest : public ::testing::TestWithParam<WireMode> {
 protected:
  std::unique_ptr<Compressor> compressor_ = NewCompressor(GetParam());
};

TEST_P(FragmentModeTest, ReassemblesOutOfOrder) {
  Fragmenter fragmenter(compressor_.get());
  Instruction in = BigInstruction(5000);
  auto fragments = fragmenter.MakeFragments(in, 1000);
  ASSERT_TRUE(fragments.ok()) << fragments.status();
  ASSERT_GE(fragments->size(), 5u);
  std::reverse(fragments->begin(), fragments->end());
  FragmentAssembler assembler(compressor_.get());
  for (size_t i = 0; i + 1 < fragments->size(); ++i) {
    auto r = assembler.Add((*fragments)[i]);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->has_value());
    ASSERT_TRUE(assembler.Add((*fragments)[i]).ok());  // duplicates are harmless
  }
  auto done = assembler.Add(fragments->back());
  ASSERT_TRUE(done.ok() && done->has_value()) << done.status();
  EXPECT_EQ(**done, in);
  EXPECT_EQ(assembler.tracked_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(BothModes, FragmentModeTest,
                         ::testing::Values(WireMode::kMosh, WireMode::kMoshx));

TEST(FragmentTest, EncodesHeaderBigEndianWithFinalBit) {
  std::string bytes = FragmentBytes(0x0102030405060708, 0x1234, true, "xy");
  EXPECT_EQ(bytes, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x92\x34xy", 12));
  auto back = Fragment::Decode(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (Fragment{0x0102030405060708, 0x1234, true, "xy"}));
}

TEST(FragmentTest, DropsTruncatedFragment) {
  ZlibCompressor zlib;
  FragmentAssembler assembler(&zlib);
  std::string bytes = FragmentBytes(1, 0, true, "");
  for (size_t len = 0; len < kFragmentHeaderSize; ++len) {
    EXPECT_EQ(assembler.Add(bytes.substr(0, len)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(FragmentTest, RejectsContradictoryFragments) {
  ZlibCompressor zlib;
  FragmentAssembler assembler(&zlib);
  ASSERT_TRUE(assembler.Add(FragmentBytes(5, 3, false, "aaa")).ok());
  // Same slot, different bytes.
  EXPECT_FALSE(assembler.Add(FragmentBytes(5, 3, false, "aab")).ok());
  // Final flag on a number below a stored fragment.
  EXPECT_FALSE(assembler.Add(FragmentBytes(5, 2, true, "f")).ok());
  ASSERT_TRUE(assembler.Add(FragmentBytes(5, 4, true, "f")).ok());
  // A second, different final; a fragment beyond the final one.
  EXPECT_FALSE(assembler.Add(FragmentBytes(5, 6, true, "g")).ok());
  EXPECT_FALSE(assembler.Add(FragmentBytes(5, 9, false, "h")).ok());
  // The assembly survived the bad fragments.
  EXPECT_EQ(assembler.held_fragments(), 2u);
}

TEST(FragmentTest, NewIdDiscardsThePartialAssembly) {
  ZlibCompressor zlib;
  Fragmenter fragmenter(&zlib);
  auto first = fragmenter.MakeFragments(BigInstruction(3000, 1), 500);
  Instruction second_in = BigInstruction(10, 2);
  auto second = fragmenter.MakeFragments(second_in, 500);
  ASSERT_TRUE(first.ok() && second.ok());
  FragmentAssembler assembler(&zlib);
  ASSERT_TRUE(assembler.Add((*first)[0]).ok());
  EXPECT_GT(assembler.tracked_bytes(), 500u);
  auto done = assembler.Add((*second)[0]);
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_EQ(**done, second_in);
  // The late rest of the first instruction never completes it.
  for (size_t i = 1; i < first->size(); ++i) {
    auto r = assembler.Add((*first)[i]);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value());
  }
}

TEST(FragmentTest, FloodOfFreshIdsKeepsMemoryBounded) {
  ZlibCompressor zlib;
  FragmentAssembler assembler(&zlib);
  std::string contents(1200, 'x');
  size_t peak = 0;
  for (uint64_t id = 0; id < 100000; ++id) {
    ASSERT_TRUE(assembler.Add(FragmentBytes(id, id % 100, false, contents)).ok());
    peak = std::max(peak, assembler.tracked_bytes());
  }
  EXPECT_EQ(peak, contents.size() + FragmentAssembler::kPerFragmentOverhead);
  EXPECT_EQ(assembler.held_fragments(), 1u);
}

TEST(FragmentTest, FloodOfOneIdIsCapped) {
  ZlibCompressor zlib;
  FragmentAssembler assembler(&zlib);
  std::string contents(2000, 'x');
  size_t peak = 0, rejected = 0;
  for (uint32_t n = 0; n <= kMaxFragmentNumber; ++n) {
    auto r = assembler.Add(FragmentBytes(9, static_cast<uint16_t>(n), false, contents));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
      ++rejected;
    }
    peak = std::max(peak, assembler.tracked_bytes());
  }
  EXPECT_LE(peak, FragmentAssembler::kMaxTrackedBytes);
  EXPECT_GT(rejected, 0u);
}

TEST(FragmentTest, CorruptOrWrongVersionInstructionIsDropped) {
  ZlibCompressor zlib;
  FragmentAssembler assembler(&zlib);
  EXPECT_FALSE(assembler.Add(FragmentBytes(1, 0, true, "not zlib")).ok());
  Instruction v3;
  v3.protocol_version = 3;
  Fragmenter fragmenter(&zlib);
  auto fragments = fragmenter.MakeFragments(v3, 1000);
  ASSERT_TRUE(fragments.ok());
  EXPECT_FALSE(assembler.Add((*fragments)[0]).ok());
  // Valid zlib, invalid protobuf.
  auto junk = zlib.Compress("\x0b");
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(assembler.Add(FragmentBytes(2, 0, true, *junk)).ok());
  EXPECT_EQ(assembler.tracked_bytes(), 0u);
}

TEST(FragmenterTest, FollowsMoshInstructionIdRule) {
  ZlibCompressor zlib;
  Fragmenter fragmenter(&zlib);
  Instruction in = BigInstruction(10);
  auto id_of = [&](const Instruction& i, size_t max) {
    auto f = fragmenter.MakeFragments(i, max);
    EXPECT_TRUE(f.ok());
    return Fragment::Decode(f->front())->id;
  };
  EXPECT_EQ(id_of(in, 1214), 1u);   // first instruction gets id 1
  EXPECT_EQ(id_of(in, 1214), 1u);   // identical retransmission reuses it
  Instruction other_diff = in;
  other_diff.diff = "different";    // the diff is not compared
  EXPECT_EQ(id_of(other_diff, 1214), 1u);
  Instruction other_chaff = in;
  other_chaff.chaff = "zz";
  EXPECT_EQ(id_of(other_chaff, 1214), 2u);
  EXPECT_EQ(id_of(other_chaff, 462), 3u);  // MTU change
  Instruction acked = other_chaff;
  acked.ack_num = 99;
  EXPECT_EQ(id_of(acked, 462), 4u);
  EXPECT_EQ(fragmenter.last_id(), 4u);
}

TEST(FragmenterTest, RejectsZeroSizedFragments) {
  ZlibCompressor zlib;
  Fragmenter fragmenter(&zlib);
  EXPECT_FALSE(fragmenter.MakeFragments(BigInstruction(10), 0).ok());
}

TEST(FragmenterTest, MtuArithmeticMatchesSpec) {
  EXPECT_EQ(MaxFragmentContents(kMtuIpv4, WireMode::kMosh), 1214u);
  EXPECT_EQ(MaxFragmentContents(kMtuIpv6, WireMode::kMosh), 1178u);
  EXPECT_EQ(MaxFragmentContents(kMtuFallback, WireMode::kMosh), 462u);
  EXPECT_EQ(MaxFragmentContents(kMtuIpv4, WireMode::kMoshx), 1205u);  // frame-type byte
  EXPECT_EQ(MaxTypedFrameSize(kMtuIpv4), 1215u);
  EXPECT_EQ(MaxFragmentContents(20, WireMode::kMosh), 0u);
}

// Full fragments fill datagrams to exactly the MTU; none exceeds it.
TEST(FragmenterTest, DatagramsFillTheMtuExactly) {
  ZlibCompressor zlib;
  Fragmenter fragmenter(&zlib);
  PacketCodec codec = PacketCodec::Mosh(SessionKey(std::array<uint8_t, 16>{}));
  for (size_t mtu : {kMtuIpv4, kMtuIpv6, kMtuFallback}) {
    auto fragments = fragmenter.MakeFragments(BigInstruction(6000),
                                              MaxFragmentContents(mtu, WireMode::kMosh));
    ASSERT_TRUE(fragments.ok());
    ASSERT_GT(fragments->size(), 1u);
    uint64_t seq = 0;
    for (size_t i = 0; i < fragments->size(); ++i) {
      Packet p;
      p.seq = seq++;
      p.payload = (*fragments)[i];
      size_t size = codec.Seal(p).size();
      if (i + 1 < fragments->size()) {
        EXPECT_EQ(size, mtu);
      } else {
        EXPECT_LE(size, mtu);
      }
    }
  }
}

}  // namespace
}  // namespace moshx::net
