// One encrypted datagram: nonce/direction, timestamps and a fragment payload
// (layout in net/packet_format.h; docs/protocol.md §3–§4).
//
// PacketCodec turns a Packet into datagram bytes (Seal) and back (Open). It is
// stateless apart from its AEAD and, in moshx mode, the connection id: it
// does not keep sequence numbers, replay state or timestamps — that is the
// Connection's job (docs/protocol.md §3.6 step 7).
//
// Failure: Open never crashes on any input. A datagram that is rejected is a
// drop to be counted by the caller; the status code says why:
//   InvalidArgument     malformed: too short (< header + tag), larger than
//                       kMaxDatagramSize, or plaintext shorter than the
//                       4 timestamp bytes.
//   DataLoss            authentication failed ("Packet failed integrity
//                       check.") — wrong key, tampering, or corruption.
//   PermissionDenied    direction bit is not the expected one (a reflected
//                       packet of our own, docs/protocol.md §3.6
//                       step 5).
//   NotFound            moshx mode: connection id is not this codec's.
// IsAuthenticationFailure(status) singles out the DataLoss case.
//
// Thread-safety: const methods only; safe to share once constructed.
#ifndef MOSHX_NET_PACKET_H_
#define MOSHX_NET_PACKET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/aead.h"
#include "net/packet_format.h"
#include "net/session_key.h"

namespace moshx::net {

// The decrypted contents of one datagram.
struct Packet {
  Direction direction = Direction::kToServer;
  uint64_t seq = 0;                        // < 2^63
  uint16_t timestamp = kNoTimestamp;       // kNoTimestamp = none
  uint16_t timestamp_reply = kNoTimestamp; // kNoTimestamp = none
  std::string payload;                     // one encoded fragment

  friend bool operator==(const Packet& a, const Packet& b) {
    return a.direction == b.direction && a.seq == b.seq && a.timestamp == b.timestamp &&
           a.timestamp_reply == b.timestamp_reply && a.payload == b.payload;
  }
};

// The 64-bit N of the datagram header: direction bit | 63-bit seq.
uint64_t MakeNonceValue(Direction direction, uint64_t seq);
// The 12-byte AEAD nonce for N: 4 zero bytes || N big-endian.
AeadNonce MakeAeadNonce(uint64_t nonce_value);

// Plaintext codec (timestamps + payload), exposed so fuzzers and tests can
// reach past decryption. DecodePlaintext returns InvalidArgument if fewer than
// 4 bytes; it fills timestamp, timestamp_reply and payload of *packet only.
std::string EncodePlaintext(uint16_t timestamp, uint16_t timestamp_reply,
                            absl::string_view payload);
absl::Status DecodePlaintext(absl::string_view plaintext, Packet* packet);

// True for the status Open returns when the tag did not verify.
bool IsAuthenticationFailure(const absl::Status& status);

class PacketCodec {
 public:
  // mosh mode: AES-128-OCB3 under `key`, no associated data.
  static PacketCodec Mosh(const SessionKey& key);
  // moshx mode: AES-128-GCM under `key`, `connection_id` in cleartext in
  // front of every datagram and authenticated as associated data.
  static PacketCodec Moshx(const SessionKey& key, uint64_t connection_id);
  // Any AEAD (tests, fuzzers). `aead` must not be null.
  PacketCodec(WireMode mode, std::unique_ptr<Aead> aead, uint64_t connection_id = 0);

  PacketCodec(PacketCodec&&) = default;
  PacketCodec& operator=(PacketCodec&&) = default;

  // Encodes and encrypts. Precondition (checked): packet.seq <= kSeqMask;
  // the caller never reuses a (direction, seq) pair under one key. The result
  // is PacketOverhead(mode()) + payload.size() bytes long; keeping it within
  // the path MTU and kMaxDatagramSize is the caller's job.
  std::string Seal(const Packet& packet) const;

  // Decrypts and decodes one received datagram, accepting only packets whose
  // direction bit equals `expected` (a server expects kToServer). See the
  // file comment for the error codes.
  absl::StatusOr<Packet> Open(absl::string_view datagram, Direction expected) const;

  // moshx mode: the cleartext connection id of a received datagram, read
  // without decrypting, so a demultiplexer can pick the codec. Unauthenticated
  // until Open succeeds. InvalidArgument if shorter than the id.
  static absl::StatusOr<uint64_t> PeekConnectionId(absl::string_view datagram);

  WireMode mode() const { return mode_; }
  uint64_t connection_id() const { return connection_id_; }
  size_t overhead() const { return PacketOverhead(mode_); }

 private:
  WireMode mode_;
  std::unique_ptr<Aead> aead_;
  uint64_t connection_id_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_PACKET_H_
