// The byte layout of one datagram, in one place (docs/protocol.md §3–§5).
// All fixed-width integers are big-endian. net/packet.cc and net/fragment.cc
// read these layouts with BoringSSL's CBS cursor and write them with CBB.
//
// mosh mode (AES-128-OCB3, no associated data):
//
//   offset  size  field
//   0       8     N: bit 63 = direction (0 = to server, 1 = to client),
//                 bits 62..0 = sequence number                 -- cleartext
//   8       L     AEAD ciphertext of the plaintext below
//   8+L     16    AEAD tag
//
// moshx mode (AES-128-GCM; the connection id is the associated data):
//
//   0       8     connection id                                 -- cleartext
//   8       8     N, as above                                   -- cleartext
//   16      L     AEAD ciphertext
//   16+L    16    AEAD tag
//
// AEAD nonce (12 bytes) = 4 zero bytes || N (8 bytes, big-endian). Only N
// travels on the wire.
//
// Plaintext (L >= 4 bytes):
//
//   0       2     timestamp        (sender's ms clock mod 65536; 0xFFFF = none)
//   2       2     timestamp_reply  (0xFFFF = none)
//   4       L-4   payload: exactly one transport fragment
//
// Fragment (the payload, >= 10 bytes):
//
//   0       8     instruction id
//   8       2     bit 15 = final flag, bits 14..0 = fragment number
//   10      n     slice of the compressed serialized Instruction
#ifndef MOSHX_NET_PACKET_FORMAT_H_
#define MOSHX_NET_PACKET_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace moshx::net {

// Which way a datagram travels. Encoded as bit 63 of N.
enum class Direction : uint8_t { kToServer = 0, kToClient = 1 };

// Which dialect a codec speaks; chosen by the CONNECT line, never guessed.
enum class WireMode : uint8_t { kMosh = 0, kMoshx = 1 };

// --- Datagram ---------------------------------------------------------------
inline constexpr size_t kNonceFieldSize = 8;         // N on the wire
inline constexpr size_t kConnectionIdSize = 8;       // moshx mode only
inline constexpr size_t kAeadNoncePrefixSize = 4;    // zero bytes before N
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kTimestampsSize = 4;         // timestamp + reply
inline constexpr uint64_t kDirectionBit = uint64_t{1} << 63;
inline constexpr uint64_t kSeqMask = kDirectionBit - 1;  // 63-bit sequence
inline constexpr uint16_t kNoTimestamp = 0xFFFF;

// Cleartext header size per mode.
inline constexpr size_t HeaderSize(WireMode mode) {
  return mode == WireMode::kMosh ? kNonceFieldSize : kConnectionIdSize + kNonceFieldSize;
}
// Bytes a datagram adds around its fragment: header + timestamps + tag
// (28 in mosh mode, 36 in moshx mode).
inline constexpr size_t PacketOverhead(WireMode mode) {
  return HeaderSize(mode) + kTimestampsSize + kTagSize;
}

// mosh's receive buffer: anything larger is truncated by recvmsg and dropped
// ("Received oversize datagram"), so it is also the largest datagram sent.
inline constexpr size_t kMaxDatagramSize = 2048;

// The sender throws "Encrypted 2^47 blocks." after this many 16-byte blocks
// under one key (docs/protocol.md §3.7); enforcement belongs to the sender (Connection).
inline constexpr uint64_t kMaxBlocksPerKey = uint64_t{1} << 47;

// --- Fragment ---------------------------------------------------------------
inline constexpr size_t kFragmentHeaderSize = 10;    // id (8) + number (2)
inline constexpr uint16_t kFragmentFinalBit = 0x8000;
inline constexpr uint16_t kMaxFragmentNumber = 0x7FFF;

// Application datagram MTUs (whole datagram, docs/protocol.md §5.2). They start from the
// IPv6 minimum link MTU of 1280 so that no datagram needs IP fragmentation:
//   IPv4: 1280 - 20 (IPv4) - 8 (UDP)                            = 1252
//   IPv6: 1280 - 40 (IPv6) - 16 (two minimal ext. headers) - 8  = 1216
//   before the family is known, and for good after EMSGSIZE:      500
inline constexpr size_t kMtuIpv4 = 1252;
inline constexpr size_t kMtuIpv6 = 1216;
inline constexpr size_t kMtuFallback = 500;

// --- Frame type (moshx mode only) ---------------------------------------------
// In moshx mode the payload after the timestamps starts with one frame-type
// byte (docs/protocol.md §3.5): 0 carries an SSP fragment (the terminal:
// never paced or queued), other values carry frames of the association's
// other channels. mosh mode has no such byte: its wire stays mosh's.
inline constexpr size_t kFrameTypeSize = 1;
inline constexpr uint8_t kFrameTypeSsp = 0;
inline constexpr uint8_t kFrameTypeStreams = 1;  // net/stream's StreamMux
inline constexpr size_t FrameTypeSize(WireMode mode) {
  return mode == WireMode::kMoshx ? kFrameTypeSize : 0;
}

// Compressed bytes per fragment for a datagram MTU: mtu - overhead - type - 10.
// mosh mode: 1214 (IPv4), 1178 (IPv6), 462 (fallback); moshx mode: 1205, 1169,
// 453. Returns 0 when the MTU cannot even hold the headers.
inline constexpr size_t MaxFragmentContents(size_t datagram_mtu, WireMode mode) {
  size_t fixed = PacketOverhead(mode) + FrameTypeSize(mode) + kFragmentHeaderSize;
  return datagram_mtu > fixed ? datagram_mtu - fixed : 0;
}

// Bytes of a typed (non-SSP) frame a moshx datagram holds: mtu - 36 - 1
// (1215 for IPv4, 1179 for IPv6, 463 in the fallback).
inline constexpr size_t MaxTypedFrameSize(size_t datagram_mtu) {
  size_t fixed = PacketOverhead(WireMode::kMoshx) + kFrameTypeSize;
  return datagram_mtu > fixed ? datagram_mtu - fixed : 0;
}

// --- Instruction --------------------------------------------------------------
// MOSH_PROTOCOL_VERSION ("bumped for echo-ack"); any other value is rejected.
inline constexpr uint32_t kProtocolVersion = 2;
// Receivers decompress at most 2048 * 2048 bytes (mosh's uncompress buffer).
inline constexpr size_t kMaxInstructionSize = size_t{2048} * 2048;

}  // namespace moshx::net

#endif  // MOSHX_NET_PACKET_FORMAT_H_
