// The server side of forwarding for one session (docs/forwarding.md §3):
//
//  * AgentSocketDir: a fresh directory /tmp/moshx-agent.XXXXXX (mode 0700:
//    only the user can reach what is in it) whose `agent` socket the
//    session's SSH_AUTH_SOCK names. Made before the shell starts, since the
//    shell's environment is fixed then; removed (with a socket left in it)
//    when the object goes.
//  * ServerForwarding: a server Forwarder on the session's current stream
//    mux. A session whose association changes (a client attached in place of
//    another) calls Attach() again with the new mux: the old Forwarder and
//    its connections end, the new one serves the new client.
//
// Ownership: an AgentSocketDir must outlive the ServerForwarding that uses
// its path; a ServerForwarding must be destroyed (or attached elsewhere)
// before the mux it is attached to. Loop thread only.
#ifndef MOSHX_CMD_FORWARD_SERVER_FORWARDING_H_
#define MOSHX_CMD_FORWARD_SERVER_FORWARDING_H_

#include <memory>
#include <string>

#include "cmd/forward/forwarder.h"
#include "net/event_loop.h"
#include "net/stream/stream_mux.h"

namespace moshx::cmd::forward {

class AgentSocketDir {
 public:
  // `parent`: where the directory goes ("/tmp"; tests use their own).
  explicit AgentSocketDir(const std::string& parent = "/tmp");
  ~AgentSocketDir();
  AgentSocketDir(const AgentSocketDir&) = delete;
  AgentSocketDir& operator=(const AgentSocketDir&) = delete;

  // ".../agent"; empty when the directory could not be made (error() says why).
  const std::string& socket_path() const { return socket_path_; }
  const std::string& error() const { return error_; }
  // "SSH_AUTH_SOCK=<socket_path>", or empty without a directory.
  std::string EnvironmentEntry() const;

 private:
  std::string dir_;
  std::string socket_path_;
  std::string error_;
};

class ServerForwarding {
 public:
  // `agent_socket`: where to serve -A ("": refuse it).
  ServerForwarding(net::EventLoop* loop, std::string agent_socket, Forwarder::Logger log);
  ~ServerForwarding();
  ServerForwarding(const ServerForwarding&) = delete;
  ServerForwarding& operator=(const ServerForwarding&) = delete;

  // Serves the streams of `mux` (null: none) from now on; the Forwarder of
  // the previous mux, if any, is destroyed first (its streams reset) and its
  // incoming-stream handler removed.
  void Attach(net::stream::StreamMux* mux);
  const Forwarder* forwarder() const { return forwarder_.get(); }

 private:
  net::EventLoop* const loop_;
  const std::string agent_socket_;
  Forwarder::Logger log_;
  net::stream::StreamMux* mux_ = nullptr;
  std::unique_ptr<Forwarder> forwarder_;
};

}  // namespace moshx::cmd::forward

#endif  // MOSHX_CMD_FORWARD_SERVER_FORWARDING_H_
