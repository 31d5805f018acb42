// StreamBridge: joins one connected socket (a forwarded TCP connection, a
// unix socket to the ssh agent) to one net/stream stream, both directions.
//
//  * socket -> stream: the socket is read only while the stream takes bytes
//    (StreamMux::Writable); when it is full the bridge stops watching the
//    socket until on_writable, so a fast sender is slowed by TCP's own flow
//    control instead of growing memory.
//  * stream -> socket: bytes are read from the stream into one buffer of at
//    most kChunk and written to the socket; while the socket would block the
//    bridge reads nothing more, so the stream's window closes and the far
//    sender stops.
//  * Half-close: EOF from the socket finishes our direction of the stream;
//    the stream's EOF, once written out, becomes shutdown(SHUT_WR). The
//    bridge is done when both directions ended.
//  * Errors: a socket error resets the stream (kResetSocketError); a reset
//    stream closes the socket. Either way the bridge is done.
//
// on_done runs (once, from a loop callback) when the bridge has nothing
// left to do; the owner may destroy the bridge then (not inside the call).
// Destroying a bridge that is not done resets the stream. Ownership: owns
// the socket; `loop` and `mux` must outlive it. Loop thread only.
#ifndef MOSHX_CMD_FORWARD_STREAM_BRIDGE_H_
#define MOSHX_CMD_FORWARD_STREAM_BRIDGE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "cmd/sys/scoped_fd.h"
#include "net/event_loop.h"
#include "net/stream/stream_mux.h"

namespace moshx::cmd::forward {

// Reset code for a stream whose socket failed (application codes are > 0xff).
inline constexpr uint64_t kResetSocketError = 0x100;

class StreamBridge {
 public:
  static constexpr size_t kChunk = 64 * 1024;

  StreamBridge(net::EventLoop* loop, net::stream::StreamMux* mux, net::stream::StreamId id,
               sys::ScopedFd socket, std::function<void()> on_done);
  ~StreamBridge();
  StreamBridge(const StreamBridge&) = delete;
  StreamBridge& operator=(const StreamBridge&) = delete;

  // Starts pumping. `to_socket`: bytes already taken from the stream (e.g.
  // after a handshake); `to_stream`: bytes already read from the socket.
  void Start(std::string to_socket = "", std::string to_stream = "");

  bool done() const { return done_; }
  uint64_t bytes_to_stream() const { return bytes_to_stream_; }
  uint64_t bytes_to_socket() const { return bytes_to_socket_; }

 private:
  void UpdateWatch();
  void OnSocket(uint32_t events);
  void ReadSocket();
  void WriteSocket();
  void FromStream();
  void PushToStream();
  void Fail(bool reset_stream);
  void MaybeDone();

  net::EventLoop* const loop_;
  net::stream::StreamMux* const mux_;
  const net::stream::StreamId id_;
  sys::ScopedFd socket_;
  std::function<void()> on_done_;
  std::string to_socket_;   // from the stream, not yet written
  size_t to_socket_head_ = 0;
  std::string to_stream_;   // from the socket, not yet taken by the stream
  bool socket_eof_ = false;     // read side of the socket ended
  bool stream_finished_ = false;  // we called Finish
  bool stream_eof_ = false;     // the peer finished and we read it all
  bool shut_down_ = false;      // SHUT_WR sent
  bool stream_gone_ = false;
  bool done_ = false;
  bool watching_ = false;
  uint32_t watched_events_ = 0;
  net::EventLoop::AlarmId done_alarm_ = 0;
  uint64_t bytes_to_stream_ = 0;
  uint64_t bytes_to_socket_ = 0;
};

}  // namespace moshx::cmd::forward

#endif  // MOSHX_CMD_FORWARD_STREAM_BRIDGE_H_
