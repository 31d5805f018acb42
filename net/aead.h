// Authenticated encryption with associated data (AEAD), the only cipher
// interface the datagram layer uses.
//
// Two implementations exist:
//   * OcbAes128 (net/ocb_aes128.h): AES-128-OCB3, RFC 7253, 16-byte tag,
//     12-byte nonce — mosh mode, bit-compatible with mosh 1.4
//     (docs/protocol.md §3.4).
//   * GcmAes128 (net/gcm_aes128.h): AES-128-GCM through BoringSSL's EVP_AEAD,
//     16-byte tag, 12-byte nonce — moshx mode.
// Both take a 16-byte SessionKey and copy it; the copy (and every value
// derived from it) is wiped when the object is destroyed. Key bytes are never
// logged.
//
// Failure: Seal cannot fail. Open returns false when the tag does not verify
// or the input is shorter than a tag; it never throws, never aborts and never
// writes partial plaintext into *plaintext on failure (the string is left
// untouched).
//
// Thread-safety: Seal and Open are const and keep no mutable state, so one
// object may be used from several threads at once.
#ifndef MOSHX_NET_AEAD_H_
#define MOSHX_NET_AEAD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace moshx::net {

// A 96-bit nonce. Callers must never reuse a nonce with the same key.
using AeadNonce = std::array<uint8_t, 12>;

class Aead {
 public:
  static constexpr size_t kKeySize = 16;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;

  virtual ~Aead() = default;

  // Appends ciphertext || tag (plaintext.size() + kTagSize bytes) to *out.
  // `associated_data` is authenticated but not encrypted (empty in mosh mode).
  virtual void Seal(const AeadNonce& nonce, absl::string_view associated_data,
                    absl::string_view plaintext, std::string* out) const = 0;

  // Verifies and decrypts `sealed` (= ciphertext || tag). On success replaces
  // *plaintext with the plaintext and returns true; on failure returns false
  // and leaves *plaintext unchanged. Comparison of tags is constant-time.
  [[nodiscard]] virtual bool Open(const AeadNonce& nonce, absl::string_view associated_data,
                                  absl::string_view sealed, std::string* plaintext) const = 0;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_AEAD_H_
