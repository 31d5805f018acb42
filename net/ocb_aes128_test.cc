// AES-128-OCB3 against RFC 7253 Appendix A, draft-krovetz-ocb-03 (mosh's own
// vectors) and both iterative tests; all expected values come from
// testdata/ocb/.
#include "net/ocb_aes128.h"

#include <array>
#include <string>

#include "gtest/gtest.h"
#include "net/vector_file.h"

namespace moshx::net {
namespace {

using testing::Hex;
using testing::ReadVectorFile;
using testing::ToHex;
using testing::VectorRecord;

SessionKey KeyFrom(const std::string& bytes) {
  std::array<uint8_t, SessionKey::kSize> raw{};
  EXPECT_EQ(bytes.size(), raw.size());
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return SessionKey(raw);
}

AeadNonce NonceFrom(const std::string& bytes) {
  AeadNonce nonce{};
  EXPECT_EQ(bytes.size(), nonce.size());
  std::copy(bytes.begin(), bytes.end(), nonce.begin());
  return nonce;
}

// Seals P and compares with C, then opens C back to P.
void CheckRecord(const VectorRecord& r) {
  OcbAes128 ocb(KeyFrom(Hex(r.at("K"))));
  AeadNonce nonce = NonceFrom(Hex(r.at("N")));
  std::string ad = Hex(r.at("A")), plaintext = Hex(r.at("P")), expected = Hex(r.at("C"));
  std::string sealed;
  ocb.Seal(nonce, ad, plaintext, &sealed);
  EXPECT_EQ(ToHex(sealed), ToHex(expected)) << "N=" << r.at("N");
  std::string opened = "junk";
  ASSERT_TRUE(ocb.Open(nonce, ad, expected, &opened)) << "N=" << r.at("N");
  EXPECT_EQ(opened, plaintext);
}

size_t CheckFile(const std::string& path) {
  auto records = ReadVectorFile(path);
  EXPECT_TRUE(records.ok()) << records.status();
  if (!records.ok()) return 0;
  for (const VectorRecord& r : *records) CheckRecord(r);
  return records->size();
}

std::string ExpectedIterativeTag(const std::string& name) {
  auto records = ReadVectorFile("testdata/ocb/iterative.txt");
  EXPECT_TRUE(records.ok()) << records.status();
  for (const VectorRecord& r : *records) {
    if (r.count(name)) return Hex(r.at(name));
  }
  ADD_FAILURE() << "no " << name << " in iterative.txt";
  return "";
}

AeadNonce CounterNonce(uint32_t value) {
  AeadNonce nonce{};
  for (int i = 0; i < 4; ++i) nonce[11 - i] = static_cast<uint8_t>(value >> (8 * i));
  return nonce;
}

TEST(OcbAes128Test, MatchesRfc7253AppendixA) {
  EXPECT_EQ(CheckFile("testdata/ocb/rfc7253_appendix_a.txt"), 16u);
}

TEST(OcbAes128Test, MatchesAnotherImplementationOnLongMessages) {
  EXPECT_EQ(CheckFile("testdata/ocb/cross_check_long.txt"), 7u);
}

TEST(OcbAes128Test, MatchesDraft03VectorsUsedByMosh) {
  EXPECT_EQ(CheckFile("testdata/ocb/draft_krovetz_ocb_03.txt"), 16u);
}

// RFC 7253 Appendix A: K = zeros(120) || num2str(128, 8); nonces count 1..385.
TEST(OcbAes128Test, MatchesRfc7253IterativeTest) {
  std::array<uint8_t, 16> raw{};
  raw[15] = 128;
  OcbAes128 ocb{SessionKey(raw)};
  std::string c;
  for (uint32_t i = 0; i < 128; ++i) {
    std::string s(i, '\0');
    ocb.Seal(CounterNonce(3 * i + 1), s, s, &c);
    ocb.Seal(CounterNonce(3 * i + 2), "", s, &c);
    ocb.Seal(CounterNonce(3 * i + 3), s, "", &c);
  }
  std::string out;
  ocb.Seal(CounterNonce(385), c, "", &out);
  EXPECT_EQ(ToHex(out), ToHex(ExpectedIterativeTag("RFC7253")));
}

// draft-krovetz-ocb-03 (docs/protocol.md §13): zero key, nonce = 11 zero bytes || i.
TEST(OcbAes128Test, MatchesDraft03IterativeTest) {
  OcbAes128 ocb{SessionKey(std::array<uint8_t, 16>{})};
  std::string acc;
  for (uint32_t i = 0; i < 128; ++i) {
    std::string s(i, '\0');
    AeadNonce nonce{};
    nonce[11] = static_cast<uint8_t>(i);
    ocb.Seal(nonce, s, s, &acc);
    ocb.Seal(nonce, "", s, &acc);
    ocb.Seal(nonce, s, "", &acc);
  }
  EXPECT_EQ(acc.size(), 22400u);
  std::string out;
  ocb.Seal(AeadNonce{}, acc, "", &out);
  EXPECT_EQ(ToHex(out), ToHex(ExpectedIterativeTag("DRAFT03")));
}

TEST(OcbAes128Test, RoundTripsEveryLengthUpTo300) {
  OcbAes128 ocb{SessionKey(std::array<uint8_t, 16>{1, 2, 3})};
  AeadNonce nonce = CounterNonce(7);
  for (size_t len = 0; len <= 300; ++len) {
    std::string plaintext(len, 'x'), sealed, opened;
    for (size_t i = 0; i < len; ++i) plaintext[i] = static_cast<char>(i * 31);
    ocb.Seal(nonce, "ad", plaintext, &sealed);
    ASSERT_EQ(sealed.size(), len + Aead::kTagSize);
    ASSERT_TRUE(ocb.Open(nonce, "ad", sealed, &opened)) << len;
    ASSERT_EQ(opened, plaintext);
  }
}

TEST(OcbAes128Test, RejectsAnyFlippedBitAndLeavesOutputUntouched) {
  OcbAes128 ocb{SessionKey(std::array<uint8_t, 16>{9})};
  AeadNonce nonce = CounterNonce(1);
  std::string sealed;
  ocb.Seal(nonce, "", "forty-two bytes of terminal output, really", &sealed);
  for (size_t i = 0; i < sealed.size() * 8; ++i) {
    std::string bad = sealed;
    bad[i / 8] ^= static_cast<char>(1 << (i % 8));
    std::string out = "unchanged";
    EXPECT_FALSE(ocb.Open(nonce, "", bad, &out)) << "bit " << i;
    EXPECT_EQ(out, "unchanged");
  }
}

TEST(OcbAes128Test, RejectsWrongNonceAdOrTruncation) {
  OcbAes128 ocb{SessionKey(std::array<uint8_t, 16>{})};
  std::string sealed, out;
  ocb.Seal(CounterNonce(5), "ad", "payload", &sealed);
  EXPECT_FALSE(ocb.Open(CounterNonce(6), "ad", sealed, &out));
  EXPECT_FALSE(ocb.Open(CounterNonce(5), "ae", sealed, &out));
  for (size_t len = 0; len < sealed.size(); ++len) {
    EXPECT_FALSE(ocb.Open(CounterNonce(5), "ad", sealed.substr(0, len), &out)) << len;
  }
}

}  // namespace
}  // namespace moshx::net
