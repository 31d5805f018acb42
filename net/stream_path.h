// StreamPath: the Path (net/path.h) over a byte stream — datagrams framed
// with a length prefix over any pair of file descriptors (a socketpair in
// tests; later the SSH connection when UDP is blocked).
//
// Frame (all integers big-endian):
//
//   offset  size  field
//   0       2     n: length of the datagram, 0..kMaxStreamDatagram
//   2       n     the datagram (a sealed packet, net/packet_format.h)
//
// A length above kMaxStreamDatagram (2048, the largest datagram any moshx
// receiver accepts, docs/protocol.md §8.3) cannot come from a moshx peer:
// the stream is then out of step for good, so the deframer fails and the
// path stops reading (status() says why) instead of allocating for it. The
// deframer's buffer never holds more than one frame (2 + 2048 bytes).
//
// Sending never blocks the loop: a frame that cannot be written at once
// waits in an output buffer of at most kMaxPendingBytes, written when the
// descriptor becomes writable. A datagram that does not fit is dropped (the
// SSP transport retransmits what matters) and Send() returns Unavailable; a
// frame is never cut, so the stream stays in step.
//
// Addresses: a stream has none. Every datagram arrives "from" StreamPath::
// PeerAddress(), and peer() is that address once known. A client's path
// starts knowing it; a server's learns it, like UDP, from its Connection's
// SetPeer() on the first authentic datagram, so a server sends nothing
// before it heard the client (docs/protocol.md §8.1).
//
// The MTU is kMaxStreamDatagram: there is no IP fragmentation to avoid.
//
// Ownership: owns both descriptors (closed on destruction; one close if they
// are the same) and sets them non-blocking; watches them on `loop`, which
// must outlive the path. Writes use send(MSG_NOSIGNAL) on sockets, so a
// closed peer is an error, not SIGPIPE (on a pipe the process must ignore
// SIGPIPE, as cmd/ does). End of stream or a read/write error stops the
// path: Send() then returns that error. Not thread-safe: loop thread only.
#ifndef MOSHX_NET_STREAM_PATH_H_
#define MOSHX_NET_STREAM_PATH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/event_loop.h"
#include "net/packet_format.h"
#include "net/path.h"

namespace moshx::net {

inline constexpr size_t kStreamFrameHeaderSize = 2;
inline constexpr size_t kMaxStreamDatagram = kMaxDatagramSize;  // 2048

// Appends the frame of `datagram` to `*out`. Precondition (checked by the
// caller): datagram.size() <= kMaxStreamDatagram.
void AppendStreamFrame(absl::string_view datagram, std::string* out);

// Splits a byte stream into datagrams. Feed() takes bytes in any pieces and
// calls `on_datagram` for each complete frame, in order; the view is valid
// only during the call. After a frame longer than kMaxStreamDatagram, Feed()
// returns DataLoss and every later call returns it again. Holds at most one
// partial frame. Plain value type.
class StreamDeframer {
 public:
  StreamDeframer() { partial_.reserve(kStreamFrameHeaderSize + kMaxStreamDatagram); }

  absl::Status Feed(absl::string_view bytes,
                    const std::function<void(absl::string_view)>& on_datagram);
  // Bytes held of an incomplete frame.
  size_t buffered() const { return partial_.size(); }

 private:
  // The frame length in partial_'s header (which must be complete).
  size_t length() const;

  std::string partial_;  // header, then the datagram's first bytes
  bool failed_ = false;
};

class StreamPath : public Path {
 public:
  // Output waiting for a writable descriptor; beyond this, datagrams drop.
  // 64 KiB: about 50 full datagrams, several RTTs of a terminal session.
  static constexpr size_t kMaxPendingBytes = 64 * 1024;

  // The address every datagram of a stream comes from: 0.0.0.0:0.
  static Address PeerAddress() { return Address(); }

  // `read_fd` and `write_fd` may be the same descriptor (a socket). With
  // `peer_known` (a client), peer() is PeerAddress() from the start.
  // Fails if a descriptor is negative or cannot be made non-blocking or
  // watched; the descriptors are closed then too.
  static absl::StatusOr<std::unique_ptr<StreamPath>> Create(EventLoop* loop, int read_fd,
                                                            int write_fd, bool peer_known);
  ~StreamPath() override;
  StreamPath(const StreamPath&) = delete;
  StreamPath& operator=(const StreamPath&) = delete;

  void set_receive_handler(ReceiveHandler handler) override { handler_ = std::move(handler); }
  absl::Status Send(absl::string_view datagram) override;
  size_t mtu() const override { return kMaxStreamDatagram; }
  std::optional<Address> peer() const override { return peer_; }
  void SetPeer(const Address& peer) override { peer_ = peer; }
  void ClearPeer() override { peer_.reset(); }
  Address local_address() const override { return PeerAddress(); }
  PathStats stats() const override { return stats_; }

  // OK while the stream works; the end-of-stream, framing or I/O error that
  // stopped it otherwise.
  const absl::Status& status() const { return status_; }
  size_t pending_bytes() const { return pending_.size(); }

 private:
  StreamPath(EventLoop* loop, int read_fd, int write_fd, bool peer_known);
  // (Re)installs the watches for the current state.
  absl::Status Watch();
  void OnEvents(uint32_t events);
  void ReadSome();
  void Flush();
  void Stop(absl::Status why);

  EventLoop* const loop_;
  const int read_fd_;
  const int write_fd_;
  const bool write_is_socket_;  // send(MSG_NOSIGNAL) rather than write(2)
  std::optional<Address> peer_;
  StreamDeframer deframer_;
  std::string pending_;  // framed bytes not yet written
  absl::Status status_;
  bool watching_write_ = false;
  ReceiveHandler handler_;
  PathStats stats_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_STREAM_PATH_H_
