// AES-128-OCB3 (RFC 7253) with TAGLEN = 128 and 96-bit nonces, built by hand
// on BoringSSL's AES block cipher (BoringSSL has no OCB mode). This is the
// cipher of mosh's datagrams (docs/protocol.md §3.4, §13); it reproduces
// RFC 7253 Appendix A and draft-krovetz-ocb-03's vectors (testdata/ocb/).
//
// Ownership: the object owns its expanded AES keys and OCB's L table; all of
// them are wiped (OPENSSL_cleanse) by the destructor. Not copyable.
// Thread-safety: see net/aead.h (const methods, no mutable state).
#ifndef MOSHX_NET_OCB_AES128_H_
#define MOSHX_NET_OCB_AES128_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "net/aead.h"
#include "net/session_key.h"
#include "openssl/aes.h"

namespace moshx::net {

class OcbAes128 final : public Aead {
 public:
  explicit OcbAes128(const SessionKey& key);
  ~OcbAes128() override;
  OcbAes128(const OcbAes128&) = delete;
  OcbAes128& operator=(const OcbAes128&) = delete;

  void Seal(const AeadNonce& nonce, absl::string_view associated_data,
            absl::string_view plaintext, std::string* out) const override;
  [[nodiscard]] bool Open(const AeadNonce& nonce, absl::string_view associated_data,
                          absl::string_view sealed, std::string* plaintext) const override;

  // 16-byte block, big-endian bit order as in RFC 7253.
  using Block = std::array<uint8_t, 16>;

 private:
  // L_{i} for i < kLevels covers messages of up to 2^kLevels blocks.
  static constexpr int kLevels = 48;

  Block InitialOffset(const AeadNonce& nonce) const;
  Block Hash(absl::string_view associated_data) const;
  // Runs OCB over `in` writing `out` (same length); returns the tag.
  Block Crypt(const AeadNonce& nonce, absl::string_view associated_data,
              const uint8_t* in, size_t len, uint8_t* out, bool encrypt) const;

  AES_KEY encrypt_key_;
  AES_KEY decrypt_key_;
  Block l_star_;
  Block l_dollar_;
  std::array<Block, kLevels> l_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_OCB_AES128_H_
