// AES-128-GCM (moshx mode) against the GCM specification's known answers in
// testdata/gcm/.
#include "net/gcm_aes128.h"

#include <array>
#include <string>

#include "gtest/gtest.h"
#include "net/vector_file.h"

namespace moshx::net {
namespace {

using testing::Hex;
using testing::ToHex;

template <typename Array>
Array ArrayFrom(const std::string& bytes) {
  Array a{};
  EXPECT_EQ(bytes.size(), a.size());
  std::copy(bytes.begin(), bytes.end(), a.begin());
  return a;
}

TEST(GcmAes128Test, MatchesGcmSpecTestCases) {
  auto records = testing::ReadVectorFile("testdata/gcm/gcm_spec_appendix_b.txt");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 4u);
  for (const auto& r : *records) {
    GcmAes128 gcm{SessionKey(ArrayFrom<std::array<uint8_t, 16>>(Hex(r.at("K"))))};
    AeadNonce nonce = ArrayFrom<AeadNonce>(Hex(r.at("N")));
    std::string ad = Hex(r.at("A")), plaintext = Hex(r.at("P")), expected = Hex(r.at("C"));
    std::string sealed, opened;
    gcm.Seal(nonce, ad, plaintext, &sealed);
    EXPECT_EQ(ToHex(sealed), ToHex(expected));
    ASSERT_TRUE(gcm.Open(nonce, ad, expected, &opened));
    EXPECT_EQ(opened, plaintext);
  }
}

TEST(GcmAes128Test, RejectsTamperingAndLeavesOutputUntouched) {
  GcmAes128 gcm{SessionKey(std::array<uint8_t, 16>{4, 2})};
  AeadNonce nonce{};
  std::string sealed;
  gcm.Seal(nonce, "connection id", "payload bytes", &sealed);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed, out = "unchanged";
    bad[i] ^= 0x01;
    EXPECT_FALSE(gcm.Open(nonce, "connection id", bad, &out)) << i;
    EXPECT_EQ(out, "unchanged");
  }
  std::string out;
  EXPECT_FALSE(gcm.Open(nonce, "connection iD", sealed, &out));
  EXPECT_FALSE(gcm.Open(nonce, "connection id", sealed.substr(0, 15), &out));
  EXPECT_TRUE(gcm.Open(nonce, "connection id", sealed, &out));
  EXPECT_EQ(out, "payload bytes");
}

}  // namespace
}  // namespace moshx::net
