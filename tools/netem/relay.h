// UdpRelay: a UDP impairment relay on loopback for end-to-end tests of bad
// links without `tc netem`, which needs the kernel's sch_netem module and
// root.
//
//   client ──► 127.0.0.1:listen ─[up link]─► upstream socket ──► 127.0.0.1:server
//   client ◄── 127.0.0.1:listen ◄─[down link]─ upstream socket ◄── server
//
// Every datagram from a client is forwarded to the server from the relay's
// "upstream" socket; every datagram the server sends to that socket goes back
// to the client's LATEST source address (a client may itself roam). Each
// direction has its own one-way delay, uniform jitter (delay ± jitter,
// never below 0; jitter can reorder), i.i.d. loss probability and duplication
// probability, drawn from a per-direction std::mt19937_64 seeded from `seed`,
// so a run with the same seed and the same packet sequence replays exactly.
//
// Controls (the events a test needs):
//   * Rebind(): replace the upstream socket by one on a new ephemeral port;
//     the server sees the client "roam". Packets the server sends to the old
//     port are lost, as they would be after a real address change.
//   * Freeze(seconds): blackhole both directions for a while: datagrams
//     received or due for delivery during the freeze are dropped.
// They are reachable through a control UDP socket (text commands), signals
// (SIGUSR1 = rebind, SIGUSR2 = freeze for the configured time) and the C++
// API. SIGINT/SIGTERM and the max run time stop Run().
//
// A test tool, not product code: it uses real sockets and the steady clock.
// Single-threaded; not thread-safe.
#ifndef MOSHX_TOOLS_NETEM_RELAY_H_
#define MOSHX_TOOLS_NETEM_RELAY_H_

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moshx::netem {

// Impairments of one direction.
struct LinkConfig {
  double delay_ms = 0;   // one-way delay
  double jitter_ms = 0;  // uniform in [-jitter, +jitter], clamped at 0 total
  double loss = 0;       // i.i.d. drop probability, 0..1
  double duplicate = 0;  // probability of sending a second copy, 0..1
};

struct RelayConfig {
  uint16_t listen_port = 0;   // 0: ephemeral (see UdpRelay::listen_port())
  uint16_t server_port = 0;   // required
  int control_port = -1;      // -1: no control socket; 0: ephemeral
  LinkConfig up;              // client -> server
  LinkConfig down;            // server -> client
  uint64_t seed = 1;
  double max_seconds = 300;   // Run() returns after this long
  double sigusr2_freeze_seconds = 5;
};

// Counters of one direction. Once nothing is queued:
//   received + duplicated == sent + lost + blackholed + undeliverable + errors
struct LinkStats {
  uint64_t received = 0;    // datagrams that entered the link
  uint64_t sent = 0;        // copies delivered to the socket layer
  uint64_t lost = 0;        // dropped by the loss draw
  uint64_t duplicated = 0;  // extra copies scheduled
  uint64_t blackholed = 0;  // dropped because of a freeze
  uint64_t undeliverable = 0;  // down: no client address yet
  uint64_t errors = 0;      // sendto() failures
  // UDP payload bytes of the datagrams counted in `received` and `sent`
  // (without IP/UDP headers; a bench adds 28 per IPv4 datagram if wanted).
  uint64_t received_bytes = 0;
  uint64_t sent_bytes = 0;
  std::string ToString() const;
};

class UdpRelay {
 public:
  // Binds the listen, upstream and (optional) control sockets on 127.0.0.1
  // and installs a signalfd for SIGUSR1/SIGUSR2/SIGINT/SIGTERM (those signals
  // are blocked in the calling thread). Errors: InvalidArgument for a bad
  // config, errno text of socket calls.
  static absl::StatusOr<std::unique_ptr<UdpRelay>> Create(
      const RelayConfig& config);
  ~UdpRelay();

  uint16_t listen_port() const { return listen_port_; }
  uint16_t upstream_port() const { return upstream_port_; }
  int control_port() const { return control_port_; }  // -1: none

  // Forwards until max_seconds elapse, a stop signal, or a "quit" command.
  absl::Status Run();

  // Replaces the upstream socket (new source port towards the server).
  absl::Status Rebind();
  // Blackholes both directions for `seconds` from now.
  void Freeze(double seconds);

  const LinkStats& up_stats() const { return up_.stats; }
  const LinkStats& down_stats() const { return down_.stats; }
  // "up: received=... ; down: ..." (one line, no newline).
  std::string StatsLine() const;

 private:
  using Time = std::chrono::steady_clock::time_point;
  struct Pending {
    Time due;
    uint64_t order;
    bool up;
    std::string payload;
    bool operator>(const Pending& o) const {
      return due != o.due ? due > o.due : order > o.order;
    }
  };
  struct Link {
    LinkConfig config;
    std::mt19937_64 rng;
    LinkStats stats;
  };

  explicit UdpRelay(const RelayConfig& config);
  absl::Status Open();
  void Admit(bool up, const char* data, size_t size, Time now);
  Time DueTime(Link& link, Time now);
  void Deliver(const Pending& p, Time now);
  void DeliverDue(Time now);
  void DrainSocket(int fd, bool from_client, Time now);
  void HandleControl();
  void HandleSignals();
  std::string Command(const std::string& text);
  int PollTimeoutMs(Time now, Time end) const;

  RelayConfig config_;
  int listen_fd_ = -1, upstream_fd_ = -1, control_fd_ = -1, signal_fd_ = -1;
  uint16_t listen_port_ = 0, upstream_port_ = 0;
  int control_port_ = -1;
  sockaddr_in server_{}, client_{};
  bool have_client_ = false;
  bool stop_ = false;
  Time frozen_until_{};
  Link up_, down_;
  uint64_t order_ = 0;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>>
      queue_;
};

}  // namespace moshx::netem

#endif  // MOSHX_TOOLS_NETEM_RELAY_H_
