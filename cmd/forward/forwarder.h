// Forwarder: the forwarding service of one side of a moshx session, on the
// session's stream multiplexer (net/stream).
//
// Client side (options from -L/-R/-D/-A):
//  * -L: a TCP listener; each accepted connection opens a stream whose
//    OpenRequest (core/protocol/forward_protocol.h) asks the server to connect
//    to host:hostport.
//  * -D: a TCP listener speaking SOCKS5 (CONNECT); the target comes from the
//    SOCKS request, the rest is as -L; the SOCKS reply reports the server's
//    connect result.
//  * -R: a control stream per option asks the server to listen; each
//    connection the server accepts comes back as a stream naming the listener,
//    and the client connects to its own configured host:hostport.
//  * -A: a control stream asks the server to serve the session's agent socket
//    (kAgentListen); agent streams from the server are connected to the
//    client's agent socket ($SSH_AUTH_SOCK).
// Server side: connects for kConnect, listens for kListen, and for
// kAgentListen listens on its `agent_socket` (the path the session's
// SSH_AUTH_SOCK names); each listener lives as long as the control stream
// that asked for it, and an agent socket file is removed with its listener.
//
// Policy: a client serves only kReverse (for its own -R listeners) and kAgent
// (only with -A); a server serves only kConnect, kListen (at most
// `max_remote_listeners` at once) and kAgentListen (only with an
// agent_socket). Anything else is answered kRefused. A listener that cannot be
// opened (port in use, privileged port) is one log line; the session goes on.
// How many streams the peer may open at once is the mux's cap
// (MuxConfig::max_incoming_streams).
//
// Ownership: `loop` and `mux` must outlive the Forwarder; it owns its
// listeners and connections, and destroying it resets their streams (the
// peer then closes the listeners they kept open). Install OnIncomingStream() as the mux's
// incoming handler. Loop thread only.
#ifndef MOSHX_CMD_FORWARD_FORWARDER_H_
#define MOSHX_CMD_FORWARD_FORWARDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cmd/forward/forward_spec.h"
#include "cmd/sys/scoped_fd.h"
#include "net/event_loop.h"
#include "net/stream/stream_mux.h"

namespace moshx::cmd::forward {

struct ForwarderOptions {
  bool is_server = false;
  std::vector<ForwardSpec> specs;  // client only
  // Client: the user's agent ($SSH_AUTH_SOCK); non-empty turns -A on.
  // Server: where to serve the agent when a client asks (the session's
  // SSH_AUTH_SOCK, in a directory only the user can enter); empty: refuse.
  std::string agent_socket;
  // Server: -R listeners one client may hold at once.
  size_t max_remote_listeners = 64;
};

struct ForwarderStats {
  uint64_t accepted = 0;          // local connections accepted (any listener)
  uint64_t bridged = 0;           // connections that reached the data phase
  uint64_t refused = 0;           // requests refused by policy
  uint64_t failed = 0;            // connects/opens that failed
};

class Forwarder {
 public:
  using Logger = std::function<void(const std::string& line)>;

  Forwarder(net::EventLoop* loop, net::stream::StreamMux* mux, ForwarderOptions options,
            Logger log);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Client: opens the -L/-D listeners and asks for the -R ones and, with -A,
  // for the agent socket. Failures are logged, one line each.
  void Start();
  // Server: listens on the unix socket `path` for agent connections until
  // the Forwarder is destroyed (tests; sessions use kAgentListen).
  absl::Status StartAgentListener(const std::string& path);
  // The stream multiplexer's incoming-stream handler.
  void OnIncomingStream(net::stream::StreamId id);

  // Client: the port a -L/-D listener got (its spec's port; tests use 0).
  uint16_t listening_port(size_t spec_index) const;
  size_t connections() const { return conns_.size(); }
  const ForwarderStats& stats() const { return stats_; }

 private:
  struct Listener;
  struct Conn;

  void OpenListener(size_t spec_index);
  void RequestRemoteListener(size_t spec_index);
  void RequestAgentSocket();
  absl::Status ListenAgent(const std::string& path, std::optional<net::stream::StreamId> control);
  size_t RemoteListeners() const;
  void OnAccept(Listener* listener);
  void OpenStreamFor(Conn* conn, const std::string& request);
  void OnStreamReadable(Conn* conn);
  void OnSocketEvent(Conn* conn, uint32_t events);
  void HandleRequest(Conn* conn, const std::string& body);
  void HandleReply(Conn* conn, const std::string& body);
  void StartConnect(Conn* conn, absl::StatusOr<sys::ScopedFd> fd);
  void Reply(Conn* conn, int status, const std::string& message);
  void Bridge(Conn* conn, std::string to_socket, std::string to_stream);
  void Drop(Conn* conn, const std::string& why);
  void CloseListenerFor(net::stream::StreamId control);

  net::EventLoop* const loop_;
  net::stream::StreamMux* const mux_;
  const ForwarderOptions options_;
  Logger log_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_conn_ = 1;
  ForwarderStats stats_;
};

}  // namespace moshx::cmd::forward

#endif  // MOSHX_CMD_FORWARD_FORWARDER_H_
