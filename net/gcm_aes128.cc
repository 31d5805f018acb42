#include "net/gcm_aes128.h"

#include "absl/base/internal/raw_logging.h"
#include "openssl/crypto.h"
#include "openssl/err.h"

namespace moshx::net {
namespace {

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

GcmAes128::GcmAes128(const SessionKey& key) {
  int ok = EVP_AEAD_CTX_init(ctx_.get(), EVP_aead_aes_128_gcm(), key.bytes().data(),
                             key.bytes().size(), kTagSize, nullptr);
  ABSL_RAW_CHECK(ok == 1, "EVP_AEAD_CTX_init(AES-128-GCM) failed");
}

GcmAes128::~GcmAes128() {
  EVP_AEAD_CTX_cleanup(ctx_.get());
  OPENSSL_cleanse(ctx_.get(), sizeof(EVP_AEAD_CTX));
  EVP_AEAD_CTX_zero(ctx_.get());  // the scoped owner's cleanup is then a no-op
}

void GcmAes128::Seal(const AeadNonce& nonce, absl::string_view associated_data,
                     absl::string_view plaintext, std::string* out) const {
  size_t start = out->size();
  out->resize(start + plaintext.size() + kTagSize);
  size_t written = 0;
  int ok = EVP_AEAD_CTX_seal(ctx_.get(), reinterpret_cast<uint8_t*>(&(*out)[start]), &written,
                             plaintext.size() + kTagSize, nonce.data(), nonce.size(),
                             Bytes(plaintext), plaintext.size(), Bytes(associated_data),
                             associated_data.size());
  ABSL_RAW_CHECK(ok == 1 && written == plaintext.size() + kTagSize, "GCM seal failed");
}

bool GcmAes128::Open(const AeadNonce& nonce, absl::string_view associated_data,
                     absl::string_view sealed, std::string* plaintext) const {
  if (sealed.size() < kTagSize) return false;
  std::string result(sealed.size() - kTagSize, '\0');
  size_t written = 0;
  int ok = EVP_AEAD_CTX_open(ctx_.get(), reinterpret_cast<uint8_t*>(result.data()), &written,
                             result.size(), nonce.data(), nonce.size(), Bytes(sealed),
                             sealed.size(), Bytes(associated_data), associated_data.size());
  if (ok != 1 || written != result.size()) {
    ERR_clear_error();  // keep the thread's error queue clean under a flood
    return false;
  }
  *plaintext = std::move(result);
  return true;
}

}  // namespace moshx::net
