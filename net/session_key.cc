#include "net/session_key.h"

#include "absl/status/status.h"
#include "openssl/base64.h"
#include "openssl/crypto.h"
#include "openssl/rand.h"

namespace moshx::net {
namespace {

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

}  // namespace

absl::StatusOr<SessionKey> SessionKey::FromBase64(absl::string_view text) {
  if (text.size() != kBase64Size) {
    return absl::InvalidArgumentError("Key must be 22 letters long.");
  }
  for (char c : text) {
    if (!IsBase64Char(c)) return absl::InvalidArgumentError("Key must be well-formed base64.");
  }
  uint8_t padded[kBase64Size + 2];
  std::copy(text.begin(), text.end(), padded);
  padded[kBase64Size] = padded[kBase64Size + 1] = '=';
  uint8_t decoded[18];
  size_t decoded_len = 0;
  const bool decoded_ok =
      EVP_DecodeBase64(decoded, &decoded_len, sizeof(decoded), padded, sizeof(padded)) &&
      decoded_len == kSize;
  OPENSSL_cleanse(padded, sizeof(padded));
  if (!decoded_ok) {
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return absl::InvalidArgumentError("Key must be well-formed base64.");
  }
  std::array<uint8_t, kSize> bytes;
  std::copy(decoded, decoded + kSize, bytes.begin());
  OPENSSL_cleanse(decoded, sizeof(decoded));
  SessionKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  // The last character carries 2 bits of key and 4 bits that must be zero;
  // re-encoding exposes any non-zero padding bits.
  std::string again = key.ToBase64();
  const bool canonical = CRYPTO_memcmp(again.data(), text.data(), kBase64Size) == 0;
  WipeSecret(&again);
  if (!canonical) return absl::InvalidArgumentError("Base64 key was not encoded 128-bit key.");
  return key;
}

SessionKey::~SessionKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string SessionKey::ToBase64() const {
  uint8_t out[25];  // 4 * ceil(16 / 3) + NUL
  size_t n = EVP_EncodeBlock(out, bytes_.data(), bytes_.size());
  std::string text(reinterpret_cast<const char*>(out), n - 2);  // drop "=="
  OPENSSL_cleanse(out, sizeof(out));
  return text;
}

void WipeSecret(std::string* text) {
  // data() of a std::string owns capacity() + 1 bytes (the terminator).
  text->resize(text->capacity());
  OPENSSL_cleanse(text->data(), text->size());
  text->clear();
}

bool operator==(const SessionKey& a, const SessionKey& b) {
  return CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), SessionKey::kSize) == 0;
}

absl::StatusOr<SessionKey> RandBytesKeySource::NewKey() {
  std::array<uint8_t, SessionKey::kSize> bytes;
  if (RAND_bytes(bytes.data(), bytes.size()) != 1) {
    return absl::UnavailableError("RAND_bytes failed: no system randomness for a session key");
  }
  SessionKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

}  // namespace moshx::net
