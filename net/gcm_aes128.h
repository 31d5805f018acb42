// AES-128-GCM through BoringSSL's EVP_AEAD (EVP_aead_aes_128_gcm), 12-byte
// nonce, 16-byte tag: the cipher of moshx-mode datagrams.
//
// Ownership: owns a bssl::ScopedEVP_AEAD_CTX (RAII). BoringSSL's GCM cleanup
// does not wipe the expanded key held inside the context, so the destructor
// cleanses the whole context itself. Not copyable.
// Thread-safety: see net/aead.h (EVP_AEAD_CTX seal/open are safe to call
// concurrently on one context).
#ifndef MOSHX_NET_GCM_AES128_H_
#define MOSHX_NET_GCM_AES128_H_

#include <string>

#include "absl/strings/string_view.h"
#include "net/aead.h"
#include "net/session_key.h"
#include "openssl/aead.h"

namespace moshx::net {

class GcmAes128 final : public Aead {
 public:
  explicit GcmAes128(const SessionKey& key);
  ~GcmAes128() override;
  GcmAes128(const GcmAes128&) = delete;
  GcmAes128& operator=(const GcmAes128&) = delete;

  void Seal(const AeadNonce& nonce, absl::string_view associated_data,
            absl::string_view plaintext, std::string* out) const override;
  [[nodiscard]] bool Open(const AeadNonce& nonce, absl::string_view associated_data,
                          absl::string_view sealed, std::string* plaintext) const override;

 private:
  bssl::ScopedEVP_AEAD_CTX ctx_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_GCM_AES128_H_
