#include "net/compressor.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "gtest/gtest.h"

// Records the largest single operator-new allocation while armed, so the bomb
// test can check that output buffers never exceed the cap.
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest{0};
}  // namespace

void* operator new(size_t size) {
  if (g_tracking.load() && size > g_largest.load()) g_largest.store(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace moshx::net {
namespace {

class CompressorTest : public ::testing::TestWithParam<WireMode> {
 protected:
  std::unique_ptr<Compressor> compressor_ = NewCompressor(GetParam());
};

std::string SampleText() {
  std::string s;
  for (int i = 0; i < 2000; ++i) s += "\x1b[" + std::to_string(i % 50) + ";1Hline of output ";
  return s;
}

TEST_P(CompressorTest, RoundTrips) {
  for (const std::string& input : {std::string(), std::string("a"), SampleText()}) {
    auto packed = compressor_->Compress(input);
    ASSERT_TRUE(packed.ok()) << packed.status();
    EXPECT_FALSE(packed->empty());
    auto unpacked = compressor_->Decompress(*packed);
    ASSERT_TRUE(unpacked.ok()) << unpacked.status();
    EXPECT_EQ(*unpacked, input);
  }
}

TEST_P(CompressorTest, AcceptsOutputExactlyAtTheCapAndRejectsOneByteMore) {
  std::string input(100000, 'z');
  auto packed = compressor_->Compress(input);
  ASSERT_TRUE(packed.ok());
  auto at_cap = compressor_->Decompress(*packed, input.size());
  ASSERT_TRUE(at_cap.ok()) << at_cap.status();
  EXPECT_EQ(at_cap->size(), input.size());
  auto over = compressor_->Decompress(*packed, input.size() - 1);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
}

// 64 MiB of zeros compresses to a few KiB; decompression must stop at the
// 4 MiB cap instead of producing (or allocating) the whole thing.
TEST_P(CompressorTest, RejectsDecompressionBomb) {
  std::string bomb_input(64 << 20, '\0');
  auto packed = compressor_->Compress(bomb_input);
  ASSERT_TRUE(packed.ok());
  bomb_input.clear();
  bomb_input.shrink_to_fit();
  EXPECT_LT(packed->size(), 1u << 20);
  g_largest = 0;
  g_tracking = true;
  auto result = compressor_->Decompress(*packed);
  g_tracking = false;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  // Output buffers are std::strings: at most cap + 1 (terminator) bytes.
  EXPECT_GT(g_largest.load(), kMaxInstructionSize / 2);
  EXPECT_LE(g_largest.load(), kMaxInstructionSize + 1);
}

TEST_P(CompressorTest, RejectsTruncatedCorruptAndTrailingInput) {
  auto packed = compressor_->Compress(SampleText());
  ASSERT_TRUE(packed.ok());
  for (size_t len = 0; len < packed->size(); ++len) {
    EXPECT_FALSE(compressor_->Decompress(packed->substr(0, len)).ok()) << "length " << len;
  }
  EXPECT_FALSE(compressor_->Decompress(*packed + "x").ok());
  std::string corrupt = *packed;
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() - 1] ^= 0x55;  // also breaks the checksum
  EXPECT_FALSE(compressor_->Decompress(corrupt).ok());
  EXPECT_FALSE(compressor_->Decompress("not compressed at all").ok());
}

INSTANTIATE_TEST_SUITE_P(BothModes, CompressorTest,
                         ::testing::Values(WireMode::kMosh, WireMode::kMoshx));

TEST(ZlibCompressorTest, ProducesZlibFormatAtDefaultLevel) {
  ZlibCompressor zlib;
  auto packed = zlib.Compress("hello hello hello");
  ASSERT_TRUE(packed.ok());
  ASSERT_GE(packed->size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>((*packed)[0]), 0x78);
  EXPECT_EQ(static_cast<uint8_t>((*packed)[1]), 0x9C);
}

}  // namespace
}  // namespace moshx::net
