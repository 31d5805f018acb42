// Session keys: 16 random bytes (AES-128) and their printable form.
//
// The printable form is mosh's: standard base64 of the 16 bytes with the
// trailing "==" removed, exactly 22 characters. Parsing is strict, as in
// mosh 1.4 (docs/protocol.md §2.1): wrong length, a character outside
// A-Z a-z 0-9 + /, or a last character whose unused low bits are not zero
// (only A, Q, g, w are valid there) are each rejected with a distinct message.
//
// Keys are secrets: nothing in this file logs them, and SessionKey has no
// operator<< or AbslStringify. Print only with ToBase64() where the protocol
// requires it (the CONNECT line, MOSH_KEY). Every SessionKey overwrites its
// bytes with zeros when destroyed, and FromBase64/ToBase64 wipe their
// scratch copies; callers wipe the text they hold with WipeSecret()
// (docs/security.md §2).
//
// Thread-safety: SessionKey is a value type; const methods are safe to call
// concurrently.
#ifndef MOSHX_NET_SESSION_KEY_H_
#define MOSHX_NET_SESSION_KEY_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::net {

class SessionKey {
 public:
  static constexpr size_t kSize = 16;
  static constexpr size_t kBase64Size = 22;

  // Wraps raw key bytes.
  explicit SessionKey(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}
  SessionKey(const SessionKey&) = default;
  SessionKey& operator=(const SessionKey&) = default;
  // Overwrites the key bytes with zeros (OPENSSL_cleanse: not elided).
  ~SessionKey();

  // Parses the 22-character printable form. Returns InvalidArgument with one of
  // mosh's messages ("Key must be 22 letters long.", "Key must be well-formed
  // base64.", "Base64 key was not encoded 128-bit key.") on malformed input.
  // The message never contains the input.
  static absl::StatusOr<SessionKey> FromBase64(absl::string_view text);

  // The 22-character printable form.
  std::string ToBase64() const;

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

  // Constant-time comparison.
  friend bool operator==(const SessionKey& a, const SessionKey& b);
  friend bool operator!=(const SessionKey& a, const SessionKey& b) { return !(a == b); }

 private:
  std::array<uint8_t, kSize> bytes_;
};

// Overwrites every byte `text` owns (its whole capacity) with zeros in a
// way the compiler cannot elide, then clears it. For key text: the
// printable form, MOSH_KEY's value, a CONNECT line.
void WipeSecret(std::string* text);

// Where fresh keys come from. Production uses BoringSSL's RAND_bytes
// (RandBytesKeySource); tests inject a deterministic source.
class KeySource {
 public:
  virtual ~KeySource() = default;
  // Returns a new key, or an error if the system's randomness is unavailable.
  virtual absl::StatusOr<SessionKey> NewKey() = 0;
};

// KeySource backed by BoringSSL's RAND_bytes (getrandom(2) underneath).
// Stateless and thread-safe.
class RandBytesKeySource : public KeySource {
 public:
  absl::StatusOr<SessionKey> NewKey() override;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_SESSION_KEY_H_
