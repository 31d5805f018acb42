// SessionHost: the per-user session host (docs/sessions.md §1, §4-6). It owns
// the user's one UDP socket and routes each datagram, by its cleartext moshx
// connection id, to the session process that serves that association, over
// the session's relay (cmd/host/relay_frame.h); what a session process sends
// leaves from the same socket. It answers `moshx serve` and its --list,
// --attach and --kill over control connections (cmd/host/control_socket.h)
// and keeps the SessionRegistry.
//
// Isolation: every write to a relay is nonblocking. A session process that
// does not read (hung, stopped) loses its datagrams (counted), a crashed one
// closes its relay; neither stalls the host nor any other session. Unknown
// ids and short datagrams are counted drops that allocate nothing.
//
// Everything comes in through Deps: the loop, the wall clock, the socket
// (the host does not care whether it is a UDP socket of its own or its
// connection to `moshx router`; with the router it claims every connection
// id it routes, through claim_id/release_id),
// the control listener, randomness for keys and ids, and how a session
// process starts (the wiring re-executes moshx as `moshx-session`; tests
// start nothing and talk on the relay themselves). The wiring reaps session
// processes (waitpid on session_pids() only) and reports each end through
// OnSessionProcessExited.
//
// Ownership: owns the socket, the listener, every relay and control
// connection; watches them on `loop`, which must outlive the host. Not
// thread-safe: loop thread only.
#ifndef MOSHX_CMD_HOST_SESSION_HOST_H_
#define MOSHX_CMD_HOST_SESSION_HOST_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/host/control_message.h"
#include "cmd/host/registry.h"
#include "cmd/sys/scoped_fd.h"
#include "net/clock.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"
#include "net/session_key.h"

namespace moshx::cmd {

struct HostStats {
  uint64_t datagrams_received = 0;     // read from the UDP socket whole
  uint64_t routed = 0;                 // written to a session's relay
  uint64_t dropped_unknown_id = 0;     // no session has this connection id
  uint64_t dropped_short = 0;          // too short to carry a connection id
  uint64_t dropped_session_busy = 0;   // the session's relay was full
  uint64_t dropped_oversize = 0;       // the socket reported a truncated datagram
  uint64_t receive_errors = 0;         // other socket errors
  uint64_t sent = 0;                   // session datagrams sent from the socket
  uint64_t send_errors = 0;            // ... that the socket refused
  uint64_t malformed_relay_frames = 0; // bad frames from session processes
};

// A fresh association: its key and connection id.
struct NewAssociation {
  net::SessionKey key{{}};
  uint64_t connection_id = 0;
};

class SessionHost {
 public:
  // How long an attach waits for the session process's answer, and how
  // long a killed session process has after SIGTERM before SIGKILL.
  static constexpr absl::Duration kAnswerTimeout = absl::Seconds(5);
  // A session counts as attached while its client was heard this recently
  // (a client sends at least every 3 s).
  static constexpr absl::Duration kAttachedWindow = absl::Seconds(10);
  // A host that never got a session exits after this long.
  static constexpr absl::Duration kIdleExit = absl::Seconds(30);
  // Relay packets read from one session per wakeup.
  static constexpr int kMaxReadsPerWakeup = 64;

  struct Deps {
    net::EventLoop* loop = nullptr;
    const net::Clock* clock = nullptr;         // the loop's (alarms)
    std::function<absl::Time()> now;           // wall clock (created/contact times)
    // The user's one UDP socket: the host's own, or its connection to
    // `moshx router` (docs/router.md), whose port every user shares.
    std::unique_ptr<net::DatagramSocket> socket;
    // Only when `socket` goes through the router: claims a connection id for
    // this host before any client learns it (an error refuses the new or
    // attach request), and gives one up once it routes nowhere. Both empty
    // with a socket of the host's own.
    std::function<absl::Status(uint64_t connection_id)> claim_id;
    std::function<void(uint64_t connection_id)> release_id;
    // The router's socket path when `socket` goes through the router, for
    // hello and list answers ("router="); empty: the host's own port.
    std::string router;
    sys::ScopedFd control_listener;            // listening, nonblocking; may be invalid (tests)
    uid_t uid = 0;                             // the only peer uid served
    std::string build_id;                      // answered to `hello`
    pid_t pid = 0;                             // this host's pid, answered to `hello`
    // A fresh random key and connection id.
    std::function<absl::StatusOr<NewAssociation>()> new_association;
    // Starts a session process on `relay` (its end of the socketpair); the
    // pid. The host sends it `start` right after.
    std::function<absl::StatusOr<pid_t>(sys::ScopedFd relay)> launch;
    // Sends a signal to a session process (kill(2) in production).
    std::function<void(pid_t, int)> signal;
  };

  static absl::StatusOr<std::unique_ptr<SessionHost>> Create(Deps deps);
  ~SessionHost();
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  // Serves a control connection (connected SOCK_SEQPACKET; the listener's
  // connections arrive here by themselves). Closed at once when its peer is
  // not `uid`.
  void AddControlConnection(sys::ScopedFd connection);

  // A session process ended with this raw wait status: the session ends
  // (registry: ended, exit status = the shell's, or 128+N when the process
  // died of signal N) and its ids stop routing.
  void OnSessionProcessExited(pid_t pid, int wait_status);
  // The pids of live session processes (for the wiring's waitpid).
  std::vector<pid_t> session_pids() const;

  // SIGTERM for the host: every session process gets SIGTERM.
  void TerminateAll();

  // True once nothing is left to do: no live session and no control
  // connection, and either a session has existed or kIdleExit has passed.
  bool ShouldExit() const;
  // The host is going away: the wiring removed the socket path. Connections
  // still queued on the listener are accepted and every request answered
  // `error|unavailable|the session host is exiting` (serve then retries).
  void BeginExit();

  net::Address local_address() const { return socket_->local_address(); }
  const HostStats& stats() const { return stats_; }
  SessionRegistry& registry() { return registry_; }
  size_t route_count() const { return routes_.size(); }

 private:
  struct Session;
  struct Connection;

  explicit SessionHost(Deps deps);
  absl::Status Start();

  void OnSocketReadable();
  void OnListenerReadable();
  void OnRelayReadable(uint64_t session_id);
  void OnControlReadable(int fd);
  void OnSessionControl(Session* session, const ControlMessage& message);
  void CloseControl(int fd);
  // Sends to the connection `waiter` (its descriptor + 1; 0 = nobody).
  void Answer(uint64_t waiter, const ControlMessage& reply);
  void CloseRelay(Session* session);

  ControlMessage HandleHello(Connection* c, const ControlMessage& request);
  ControlMessage HandleNew(Connection* c, const ControlMessage& request);
  ControlMessage HandleList(const ControlMessage& request);
  // Kill and attach answer later (nullopt now).
  std::optional<ControlMessage> HandleKill(uint64_t waiter, const ControlMessage& request);
  std::optional<ControlMessage> HandleAttach(uint64_t waiter, Connection* c,
                                             const ControlMessage& request);
  void FinishAttach(Session* session, const ControlMessage& answer);

  // Claims / releases a connection id with the router (no-ops without one).
  absl::Status ClaimId(uint64_t connection_id);
  void ReleaseId(uint64_t connection_id);
  // Stops routing `it` and releases its id.
  void Unroute(absl::flat_hash_map<uint64_t, Session*>::iterator it);

  // The CONNECT answer of new/attach for a session with this association.
  ControlMessage ConnectReply(const SessionRecord& record, const NewAssociation& association);
  void RefreshAttached();
  Session* SessionById(uint64_t id);

  Deps deps_;
  net::EventLoop* const loop_;
  std::unique_ptr<net::DatagramSocket> socket_;
  sys::ScopedFd listener_;
  SessionRegistry registry_;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;  // live, by session id
  absl::flat_hash_map<uint64_t, Session*> routes_;         // connection id -> session
  std::map<int, std::unique_ptr<Connection>> connections_;  // by descriptor
  net::Datagram in_;    // reused for every receive: drops allocate nothing
  std::string out_;     // reused relay frame
  std::string relay_in_;
  HostStats stats_;
  absl::Time started_;
  bool had_session_ = false;
  bool exiting_ = false;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_HOST_SESSION_HOST_H_
