#include "net/stream/zstd_stream.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace moshx::net::stream {
namespace {

std::string DrainAll(StreamDecompressor* d, size_t step = 1000) {
  std::string out;
  while (!d->idle()) {
    const size_t before = out.size();
    EXPECT_TRUE(d->Drain(step, &out).ok());
    EXPECT_LE(out.size() - before, step);
  }
  return out;
}

TEST(ZstdStreamTest, EachFlushDecompressesEverythingSoFar) {
  StreamCompressor c;
  StreamDecompressor d;
  std::string sent;
  for (int batch = 0; batch < 20; ++batch) {
    std::string input;
    for (int i = 0; i < 100; ++i) absl::StrAppend(&input, batch * 100 + i, "\r\n");
    std::string wire;
    ASSERT_TRUE(c.CompressAndFlush(input, &wire).ok());
    d.Append(wire);
    sent += input;
    EXPECT_EQ(DrainAll(&d, 77), input) << batch;
  }
}

TEST(ZstdStreamTest, LinesLikeTheOnesBeforeCompressWell) {
  // The window spans batches: 1000 lines of ordinary text, flushed 10 at a time.
  StreamCompressor c;
  std::string wire;
  size_t input_bytes = 0;
  std::mt19937 rng(1);
  const char* words[] = {"the", "server", "keeps", "lines", "that", "scroll", "off", "top",
                         "of", "screen", "history", "stream", "client", "writes", "into", "local"};
  for (int batch = 0; batch < 100; ++batch) {
    std::string input;
    for (int i = 0; i < 10; ++i) {
      std::string line;
      while (line.size() < 75) absl::StrAppend(&line, words[rng() % 16], " ");
      input += line + "\n";
    }
    input_bytes += input.size();
    ASSERT_TRUE(c.CompressAndFlush(input, &wire).ok());
  }
  EXPECT_LT(wire.size(), input_bytes / 3);
}

TEST(ZstdStreamTest, TheCompressorStaysUnderOnePointTwoMiBAfterAFlood) {
  // 20,000 lines of `seq` and 20,000 of a listing, 256 per flush as the
  // history sender batches them: zstd's level-3 tables alone made 1.75 MiB.
  StreamCompressor c;
  StreamDecompressor d;
  std::string sent, got;
  for (int batch = 0; batch < 160; ++batch) {
    std::string input;
    for (int i = 0; i < 256; ++i) {
      const int n = batch * 256 + i;
      if (batch < 80) {
        absl::StrAppend(&input, n, "\r\n");
      } else {
        absl::StrAppend(&input, "-rw-r--r-- 1 root root ", n * 37 % 100000, " Dec  6 ",
                        n % 24, ":", n % 60, " file", n, ".txt\r\n");
      }
    }
    std::string wire;
    ASSERT_TRUE(c.CompressAndFlush(input, &wire).ok());
    d.Append(wire);
    sent += input;
    got += DrainAll(&d, 1 << 16);
  }
  EXPECT_EQ(got, sent);
  EXPECT_LT(c.memory_bytes(), 1200u * 1024);
  EXPECT_GT(c.memory_bytes(), 0u);
}

TEST(ZstdStreamTest, BombsAreDrainedInBoundedPieces) {
  StreamCompressor c;
  std::string wire;
  ASSERT_TRUE(c.CompressAndFlush(std::string(8 << 20, 'a'), &wire).ok());
  EXPECT_LT(wire.size(), 4096u);
  StreamDecompressor d;
  d.Append(wire);
  std::string out;
  ASSERT_TRUE(d.Drain(4096, &out).ok());
  EXPECT_EQ(out.size(), 4096u);
  EXPECT_FALSE(d.idle());
  EXPECT_EQ(DrainAll(&d, 1 << 20).size(), (8u << 20) - 4096);
}

TEST(ZstdStreamTest, GarbageFailsForGood) {
  StreamDecompressor d;
  d.Append("this is not zstd at all");
  std::string out;
  EXPECT_FALSE(d.Drain(100, &out).ok());
  StreamCompressor c;
  std::string wire;
  ASSERT_TRUE(c.CompressAndFlush("fine", &wire).ok());
  d.Append(wire);
  EXPECT_FALSE(d.Drain(100, &out).ok());
}

}  // namespace
}  // namespace moshx::net::stream
