#include "net/ocb_aes128.h"

#include <cstring>

#include "openssl/crypto.h"

// OCB3 as specified in RFC 7253 §4 (TAGLEN = 128, 96-bit nonce). Names follow
// the RFC: L_*, L_$, L_i, Offset, Checksum, Ktop, Stretch.

namespace moshx::net {
namespace {

using Block = OcbAes128::Block;

void XorInto(Block* a, const Block& b) {
  for (size_t i = 0; i < 16; ++i) (*a)[i] ^= b[i];
}

Block Load(const uint8_t* p) {
  Block b;
  std::memcpy(b.data(), p, 16);
  return b;
}

// double(S) of RFC 7253 §2: shift left by one bit, reduce by x^128 + x^7 +
// x^2 + x + 1 when the top bit falls off.
Block Double(const Block& s) {
  Block d;
  for (size_t i = 0; i < 15; ++i) d[i] = static_cast<uint8_t>(s[i] << 1 | s[i + 1] >> 7);
  // Branch-free: L values are secret.
  uint8_t carry_mask = static_cast<uint8_t>(0 - (s[0] >> 7));
  d[15] = static_cast<uint8_t>(s[15] << 1) ^ (0x87 & carry_mask);
  return d;
}

Block Encipher(const AES_KEY& key, const Block& in) {
  Block out;
  AES_encrypt(in.data(), out.data(), &key);
  return out;
}

// The last partial block, padded with 10*: A_* || 1 || 0^(127-bitlen).
Block PadPartial(const uint8_t* p, size_t len) {
  Block b{};
  std::memcpy(b.data(), p, len);
  b[len] = 0x80;
  return b;
}

}  // namespace

OcbAes128::OcbAes128(const SessionKey& key) {
  AES_set_encrypt_key(key.bytes().data(), 128, &encrypt_key_);
  AES_set_decrypt_key(key.bytes().data(), 128, &decrypt_key_);
  l_star_ = Encipher(encrypt_key_, Block{});
  l_dollar_ = Double(l_star_);
  l_[0] = Double(l_dollar_);
  for (int i = 1; i < kLevels; ++i) l_[i] = Double(l_[i - 1]);
}

OcbAes128::~OcbAes128() {
  OPENSSL_cleanse(&encrypt_key_, sizeof(encrypt_key_));
  OPENSSL_cleanse(&decrypt_key_, sizeof(decrypt_key_));
  OPENSSL_cleanse(l_star_.data(), l_star_.size());
  OPENSSL_cleanse(l_dollar_.data(), l_dollar_.size());
  OPENSSL_cleanse(l_.data(), sizeof(l_));
}

// Offset_0 from the nonce (RFC 7253 §4.2, "Nonce-dependent and per-encryption
// variables").
Block OcbAes128::InitialOffset(const AeadNonce& nonce) const {
  Block n{};  // num2str(TAGLEN mod 128, 7) = 0 || zeros || 1 || N
  n[3] = 0x01;
  std::memcpy(n.data() + 4, nonce.data(), nonce.size());
  int bottom = n[15] & 0x3F;
  n[15] &= 0xC0;
  Block ktop = Encipher(encrypt_key_, n);
  uint8_t stretch[24];
  std::memcpy(stretch, ktop.data(), 16);
  for (int i = 0; i < 8; ++i) stretch[16 + i] = ktop[i] ^ ktop[i + 1];
  int byte_shift = bottom / 8, bit_shift = bottom % 8;
  Block offset;
  for (int i = 0; i < 16; ++i) {
    int hi = stretch[i + byte_shift] << bit_shift;
    int lo = bit_shift ? stretch[i + byte_shift + 1] >> (8 - bit_shift) : 0;
    offset[i] = static_cast<uint8_t>(hi | lo);
  }
  return offset;
}

// HASH(K, A) of RFC 7253 §4.1.
Block OcbAes128::Hash(absl::string_view associated_data) const {
  const auto* a = reinterpret_cast<const uint8_t*>(associated_data.data());
  size_t full = associated_data.size() / 16, rest = associated_data.size() % 16;
  Block sum{}, offset{};
  for (size_t i = 1; i <= full; ++i) {
    XorInto(&offset, l_[__builtin_ctzll(i)]);
    Block in = Load(a + 16 * (i - 1));
    XorInto(&in, offset);
    XorInto(&sum, Encipher(encrypt_key_, in));
  }
  if (rest != 0) {
    XorInto(&offset, l_star_);
    Block in = PadPartial(a + 16 * full, rest);
    XorInto(&in, offset);
    XorInto(&sum, Encipher(encrypt_key_, in));
  }
  return sum;
}

// OCB-ENCRYPT / OCB-DECRYPT of RFC 7253 §4.2–§4.3 without the final tag
// comparison: returns the full tag.
Block OcbAes128::Crypt(const AeadNonce& nonce, absl::string_view associated_data,
                       const uint8_t* in, size_t len, uint8_t* out, bool encrypt) const {
  size_t full = len / 16, rest = len % 16;
  Block offset = InitialOffset(nonce), checksum{};
  for (size_t i = 1; i <= full; ++i) {
    XorInto(&offset, l_[__builtin_ctzll(i)]);
    Block block = Load(in + 16 * (i - 1));
    if (encrypt) XorInto(&checksum, block);
    XorInto(&block, offset);
    if (encrypt) {
      AES_encrypt(block.data(), block.data(), &encrypt_key_);
    } else {
      AES_decrypt(block.data(), block.data(), &decrypt_key_);
    }
    XorInto(&block, offset);
    if (!encrypt) XorInto(&checksum, block);
    std::memcpy(out + 16 * (i - 1), block.data(), 16);
  }
  if (rest != 0) {
    XorInto(&offset, l_star_);
    Block pad = Encipher(encrypt_key_, offset);
    const uint8_t* src = in + 16 * full;
    uint8_t* dst = out + 16 * full;
    for (size_t j = 0; j < rest; ++j) dst[j] = src[j] ^ pad[j];
    XorInto(&checksum, PadPartial(encrypt ? src : dst, rest));
  }
  XorInto(&checksum, offset);
  XorInto(&checksum, l_dollar_);
  Block tag = Encipher(encrypt_key_, checksum);
  XorInto(&tag, Hash(associated_data));
  return tag;
}

void OcbAes128::Seal(const AeadNonce& nonce, absl::string_view associated_data,
                     absl::string_view plaintext, std::string* out) const {
  size_t start = out->size();
  out->resize(start + plaintext.size() + kTagSize);
  auto* dst = reinterpret_cast<uint8_t*>(&(*out)[start]);
  Block tag = Crypt(nonce, associated_data, reinterpret_cast<const uint8_t*>(plaintext.data()),
                    plaintext.size(), dst, /*encrypt=*/true);
  std::memcpy(dst + plaintext.size(), tag.data(), kTagSize);
}

bool OcbAes128::Open(const AeadNonce& nonce, absl::string_view associated_data,
                     absl::string_view sealed, std::string* plaintext) const {
  if (sealed.size() < kTagSize) return false;
  size_t len = sealed.size() - kTagSize;
  const auto* src = reinterpret_cast<const uint8_t*>(sealed.data());
  std::string result(len, '\0');
  Block tag = Crypt(nonce, associated_data, src, len,
                    reinterpret_cast<uint8_t*>(result.data()), /*encrypt=*/false);
  if (CRYPTO_memcmp(tag.data(), src + len, kTagSize) != 0) {
    OPENSSL_cleanse(result.data(), result.size());
    return false;
  }
  *plaintext = std::move(result);
  return true;
}

}  // namespace moshx::net
