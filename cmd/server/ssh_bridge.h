// SshBridge: the server end of `moshx connect --transport ssh`
// (docs/ssh-path.md). `moshx serve --ssh-bridge` prints its CONNECT line and,
// instead of leaving, carries the session's datagrams between the SSH
// channel (its stdin/stdout, framed as net/stream_path.h says) and the
// session's UDP port on this host:
//
//   client --frames over ssh--> bridge --UDP on loopback--> session port
//
// To the session the bridge is simply the client's address (a loopback
// socket of its own): the session adopts it on the first authentic datagram
// exactly as it follows a roaming client (docs/protocol.md §8.1), so the
// session host and the router need nothing new, and the bridge never sees
// keys or contents — it forwards sealed bytes it cannot open.
//
// Only datagrams from `session` go back over the stream; anything else that
// reaches the bridge's socket is counted and dropped. Nothing queues without
// bound: StreamPath caps what waits for the SSH channel (a datagram that does
// not fit is dropped, the SSP transport sends newer state anyway), and a
// datagram the UDP socket will not take now is dropped too.
//
// Ownership: owns the stream path and the socket; `loop` must outlive it.
// Not thread-safe: loop thread only.
#ifndef MOSHX_CMD_SERVER_SSH_BRIDGE_H_
#define MOSHX_CMD_SERVER_SSH_BRIDGE_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"
#include "net/stream_path.h"

namespace moshx::cmd {

struct SshBridgeStats {
  uint64_t to_session = 0;           // datagrams from the stream sent to the session
  uint64_t to_stream = 0;            // datagrams from the session queued on the stream
  uint64_t dropped_foreign = 0;      // UDP datagrams not from the session
  uint64_t dropped_stream_full = 0;  // the SSH channel's output buffer was full
  uint64_t send_errors = 0;          // the UDP socket refused a datagram or failed to receive
};

class SshBridge {
 public:
  // `stream` carries the frames (the SSH channel), `socket` talks to
  // `session` (the session's UDP address, normally on loopback). Fails if
  // the socket cannot be watched on `loop`.
  static absl::StatusOr<std::unique_ptr<SshBridge>> Create(
      net::EventLoop* loop, std::unique_ptr<net::StreamPath> stream,
      std::unique_ptr<net::DatagramSocket> socket, const net::Address& session);
  ~SshBridge();
  SshBridge(const SshBridge&) = delete;
  SshBridge& operator=(const SshBridge&) = delete;

  // OK while the SSH channel works; after its end of stream (the client
  // went away) or a framing or I/O error, that status: the bridge is done.
  const absl::Status& status() const { return stream_->status(); }
  const SshBridgeStats& stats() const { return stats_; }

 private:
  SshBridge(net::EventLoop* loop, std::unique_ptr<net::StreamPath> stream,
            std::unique_ptr<net::DatagramSocket> socket, const net::Address& session);
  void FromStream(net::Datagram datagram);
  void FromSocket();

  net::EventLoop* const loop_;
  std::unique_ptr<net::StreamPath> stream_;
  std::unique_ptr<net::DatagramSocket> socket_;
  const net::Address session_;
  net::Datagram received_;  // reused for every UDP datagram
  SshBridgeStats stats_;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_SSH_BRIDGE_H_
