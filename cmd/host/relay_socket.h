// RelaySocket: the session process's net::DatagramSocket over its relay to
// the session host (docs/sessions.md §4). A ServerSession runs on it
// unchanged: SendTo becomes a 'D' frame that the host sends from its UDP
// socket; ReceiveFrom returns the 'D' frames the host routed to this
// session. 'C' frames (control messages from the host, e.g. `attach`) that
// arrive meanwhile are queued for TakeControlMessages(): the session
// process handles them between loop turns, never inside the transport's
// receive path.
//
// When the host goes away (end of stream or an error on the relay), closed()
// turns true, ReceiveFrom reports Unavailable and SendTo fails; the session
// process then ends its session. fd() stays valid (and readable, at end of
// stream) until the socket is destroyed: the owner must stop its loop.
//
// Errors: SendTo: Unavailable when the relay is full (like a full UDP send
// buffer: the transport resends later) or closed; InvalidArgument for an
// empty or oversize datagram. ReceiveFrom: Unavailable when nothing waits.
// Malformed frames from the host are dropped and counted.
//
// Ownership: owns the relay descriptor. Not thread-safe; loop thread only.
#ifndef MOSHX_CMD_HOST_RELAY_SOCKET_H_
#define MOSHX_CMD_HOST_RELAY_SOCKET_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/host/control_message.h"
#include "cmd/sys/scoped_fd.h"
#include "net/datagram_socket.h"

namespace moshx::cmd {

class RelaySocket : public net::DatagramSocket {
 public:
  // Takes the relay (a connected SOCK_SEQPACKET socket; made nonblocking
  // and close-on-exec here). `local` is the host's UDP address, reported as
  // this socket's own.
  static absl::StatusOr<std::unique_ptr<RelaySocket>> Adopt(sys::ScopedFd relay,
                                                            net::Address local);
  ~RelaySocket() override = default;
  RelaySocket(const RelaySocket&) = delete;
  RelaySocket& operator=(const RelaySocket&) = delete;

  int fd() const override { return fd_.get(); }
  net::Address local_address() const override { return local_; }
  net::AddressFamily family() const override { return local_.family(); }
  absl::Status SendTo(const net::Address& to, absl::string_view payload) override;
  absl::StatusOr<net::Datagram> ReceiveFrom() override;

  // Sends a control message to the host. Unavailable if the relay is full
  // or closed; InvalidArgument if the message is too large.
  absl::Status SendControl(const ControlMessage& message);
  // Reads whatever waits on the relay without a transport (datagrams read
  // here are dropped: nobody could take them yet).
  void Poll();
  // The control messages received so far, oldest first; the queue empties.
  std::deque<ControlMessage> TakeControlMessages();

  bool closed() const { return closed_; }
  uint64_t malformed_frames() const { return malformed_frames_; }

 private:
  RelaySocket(sys::ScopedFd fd, net::Address local);
  // One frame; false when nothing waits (or the relay closed).
  bool ReadFrame(net::Datagram* datagram, bool* is_datagram);

  sys::ScopedFd fd_;
  net::Address local_;
  bool closed_ = false;
  uint64_t malformed_frames_ = 0;
  std::deque<ControlMessage> control_;
  std::string out_;  // reused frame buffer
  std::string in_;   // reused receive buffer
};

// Waits up to `timeout` for the next control message on a (blocking or
// nonblocking) relay, skipping datagram frames: the session process reads
// its `start` this way before it has a loop. Unavailable when the relay
// closed, DeadlineExceeded, InvalidArgument for a malformed frame.
absl::StatusOr<ControlMessage> ReceiveRelayControl(int fd, absl::Duration timeout);

// Sends one control frame on a relay, waiting up to 1 s for room.
absl::Status SendRelayControl(int fd, const ControlMessage& message);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_HOST_RELAY_SOCKET_H_
