// The frames on the router's Unix socket (docs/router.md §3): what a
// session host and `moshx router` say to each other, one frame per
// SOCK_SEQPACKET packet.
//
//   'C' | id (8 bytes, big-endian)                      host -> router: claim
//   'F' | id (8)                                        host -> router: forget
//   'A' | id (8)                                        router -> host: claimed
//   'N' | id (8) | reason (1)                           router -> host: refused
//   'H' | family (4 or 6) | IP (16) | port (2)           router -> host: hello,
//         the router's UDP address, the first frame on every connection
//   'D' | family (4 or 6) | IP (16) | port (2) | flags (1) | datagram
//         router -> host: a datagram that arrived for one of its ids, from
//         that address (flags bit 0: ECN congestion experienced);
//         host -> router: a datagram to send to that address (flags 0).
//
// An IPv4 address fills the first 4 of the 16 IP bytes; the rest are zero.
// A datagram is 1..net::kMaxReceiveSize bytes. Every frame is parsed as
// untrusted bytes: anything else (an unknown type, a wrong length, a family
// other than 4 or 6, a reason out of range, nonzero padding) is an
// InvalidArgument naming what is wrong (router_frame_fuzzer).
//
// Value types; thread-compatible.
#ifndef MOSHX_CMD_ROUTER_ROUTER_FRAME_H_
#define MOSHX_CMD_ROUTER_ROUTER_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/datagram_socket.h"

namespace moshx::cmd::router {

enum class FrameType : char {
  kClaim = 'C',
  kForget = 'F',
  kClaimed = 'A',
  kRefused = 'N',
  kDatagram = 'D',
  kHello = 'H',
};

// Why a claim was refused.
enum class RefuseReason : uint8_t {
  kOtherUser = 1,   // another user's host holds the id
  kTableFull = 2,   // the router holds its maximum of ids
  kUserFull = 3,    // this user holds its maximum of ids
};

// 'H' frame: type, family, 16 IP bytes, port.
inline constexpr size_t kHelloFrameSize = 1 + 1 + 16 + 2;
// 'D' header: the same, then flags.
inline constexpr size_t kDatagramHeaderSize = kHelloFrameSize + 1;
// Largest frame: a 'D' frame with the largest datagram.
inline constexpr size_t kMaxFrameSize = kDatagramHeaderSize + net::kMaxReceiveSize;

struct Frame {
  FrameType type = FrameType::kClaim;
  uint64_t id = 0;                                  // C, F, A, N
  RefuseReason reason = RefuseReason::kOtherUser;   // N
  net::Address address;                             // D, H
  bool congestion_experienced = false;              // D
  std::string datagram;                             // D

  friend bool operator==(const Frame& a, const Frame& b) {
    return a.type == b.type && a.id == b.id && a.reason == b.reason &&
           a.address == b.address && a.congestion_experienced == b.congestion_experienced &&
           a.datagram == b.datagram;
  }
};

Frame ClaimFrame(uint64_t id);
Frame ForgetFrame(uint64_t id);
Frame ClaimedFrame(uint64_t id);
Frame RefusedFrame(uint64_t id, RefuseReason reason);
Frame HelloFrame(const net::Address& router_address);
Frame DatagramFrame(const net::Address& address, std::string datagram,
                    bool congestion_experienced = false);

// The bytes of one frame. InvalidArgument for a 'D' frame whose datagram is
// empty or longer than net::kMaxReceiveSize.
absl::StatusOr<std::string> EncodeFrame(const Frame& frame);

// Writes a 'D' frame into `out` (reusing its capacity) without building a
// Frame; the router's forwarding path. Same limits as EncodeFrame.
absl::Status EncodeDatagramFrame(const net::Address& address, absl::string_view datagram,
                                 bool congestion_experienced, std::string* out);

// One frame from the bytes of one packet.
absl::StatusOr<Frame> ParseFrame(absl::string_view bytes);

}  // namespace moshx::cmd::router

#endif  // MOSHX_CMD_ROUTER_ROUTER_FRAME_H_
