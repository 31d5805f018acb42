// The frames on a session's relay (docs/sessions.md §4): the SOCK_SEQPACKET
// socketpair between the session host and one session process, one frame
// per packet.
//
//   'D' | family (4 or 6) | IP (16) | port (2, BE) | flags (1) | datagram
//         host -> session: a datagram that arrived on the host's UDP socket
//         from that address (flags bit 0: ECN congestion experienced);
//         session -> host: a datagram to send to that address (flags 0).
//   'C' | a control message (cmd/host/control_message.h)
//
// An IPv4 address fills the first 4 of the 16 IP bytes; the rest are zero.
// A datagram is 1..net::kMaxReceiveSize bytes. Every frame is parsed as
// untrusted bytes (the host must survive a misbehaving session process):
// anything else (an unknown type, a short header, a family other than 4 or
// 6, nonzero padding or flag bits, an empty or oversize datagram, a bad
// control message) is an InvalidArgument naming what is wrong
// (relay_frame_fuzzer).
//
// Free functions over value types; thread-compatible.
#ifndef MOSHX_CMD_HOST_RELAY_FRAME_H_
#define MOSHX_CMD_HOST_RELAY_FRAME_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmd/host/control_message.h"
#include "net/datagram_socket.h"

namespace moshx::cmd {

inline constexpr char kRelayDatagram = 'D';
inline constexpr char kRelayControl = 'C';
// 'D' header: type, family, 16 IP bytes, port, flags.
inline constexpr size_t kRelayDatagramHeaderSize = 1 + 1 + 16 + 2 + 1;
// Largest 'D' frame; a 'C' frame may be up to 1 + kMaxMessageSize.
inline constexpr size_t kMaxRelayDatagramFrameSize =
    kRelayDatagramHeaderSize + net::kMaxReceiveSize;
inline constexpr size_t kMaxRelayFrameSize = 1 + kMaxMessageSize;

// One parsed frame: a datagram (with its address) or a control message.
struct RelayFrame {
  char type = kRelayDatagram;
  net::Address address;                 // 'D'
  bool congestion_experienced = false;  // 'D'
  std::string datagram;                 // 'D'
  ControlMessage control;               // 'C'
};

// Writes a 'D' frame into `*out`, reusing its capacity (the host's
// forwarding path allocates nothing per datagram once `out` has grown).
// InvalidArgument for an empty datagram or one above net::kMaxReceiveSize.
absl::Status EncodeRelayDatagram(const net::Address& address, absl::string_view datagram,
                                 bool congestion_experienced, std::string* out);

// A 'C' frame. Errors as EncodeControlMessage.
absl::StatusOr<std::string> EncodeRelayControl(const ControlMessage& message);

// Parses a 'D' frame's header in place: the datagram is a view into `bytes`
// (no copy). InvalidArgument as ParseRelayFrame for 'D' frames, and for a
// frame that is not a 'D' frame.
struct RelayDatagramView {
  net::Address address;
  bool congestion_experienced = false;
  absl::string_view datagram;
};
absl::StatusOr<RelayDatagramView> ParseRelayDatagram(absl::string_view bytes);

// One frame from the bytes of one packet.
absl::StatusOr<RelayFrame> ParseRelayFrame(absl::string_view bytes);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_HOST_RELAY_FRAME_H_
