// TunRelay: an IP-level link emulator between network namespaces, for
// end-to-end tests and benchmarks (this machine's kernel has no `tc netem`;
// see tools/netem/README.md). A test tool: real sockets, TUN devices and the
// steady clock; nothing in the product links it.
//
// Each "port" is a TUN device the relay creates inside one network namespace
// (given as a path such as /run/netns/NAME) and owns one or more IPv4
// prefixes. An IP packet the namespace's kernel routes into the device is
// forwarded to the port owning its destination address, through two links
// in series, each with its own LinkModel (link_model.h: filter, blackhole,
// loss, rate-limited FIFO, delay and jitter):
//
//   ns A ──► A.up ──► B.down ──► ns B          (A.up: everything leaving A;
//   ns A ◄── A.down ◄── B.up ◄── ns B           A.down: everything entering A)
//
// With two ports "client" and "server" and only the client's links impaired,
// client.up is the client->server direction and client.down the reverse.
// Packets to no port's prefix, back to their own port, or not IPv4 are
// dropped and counted as unroutable. The relay never configures addresses:
// the caller (tools/testing/netns_lib.sh) does, after Create().
//
// Runtime control: Command() (a text protocol, also served on a unix stream
// socket, one command per connection), signals (SIGUSR1: print statistics;
// SIGUSR2: freeze every link for RelayOptions::sigusr2_freeze_seconds;
// SIGINT/SIGTERM/SIGHUP: stop) and max_seconds.
//
// Single-threaded; not thread-safe. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN
// (root) for the TUN devices and setns().
#ifndef MOSHX_TOOLS_NETEM_TUN_RELAY_H_
#define MOSHX_TOOLS_NETEM_TUN_RELAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/netem/ip_packet.h"
#include "tools/netem/link_model.h"

namespace moshx::netem {

struct PortSpec {
  std::string name;        // [A-Za-z0-9_-]+, unique; names its links
  std::string netns_path;  // e.g. /run/netns/moshx-123-client
  std::vector<Ipv4Prefix> prefixes;
};
// "NAME:NETNS_PATH:PREFIX[+PREFIX...]".
absl::StatusOr<PortSpec> ParsePortSpec(absl::string_view text);

struct RelayOptions {
  std::vector<PortSpec> ports;      // at least two
  std::string tun_name = "netem0";  // the device's name in every namespace
  int mtu = 1500;
  std::string control_path;  // unix socket path; empty: none
  uint64_t seed = 1;         // link i draws from a generator seeded (seed, i)
  double max_seconds = 600;  // Run() returns after this long
  double sigusr2_freeze_seconds = 5;
  // Bound on packets in flight inside the relay (a link without a rate
  // limit has no queue of its own); more are dropped as overflow.
  size_t max_in_flight = 100000;
  // > 0: run under SCHED_FIFO at this priority, so timers fire on time on a
  // busy machine (a loaded 2-core machine otherwise adds 1-2 ms per delayed
  // packet). Create() only warns on stderr when the kernel refuses.
  int realtime_priority = 0;
};

class TunRelay {
 public:
  // Creates the TUN devices (up, with the MTU) in each namespace, the
  // control socket and a signalfd (the signals are blocked in the calling
  // thread). Errors: InvalidArgument for bad options, errno text otherwise.
  static absl::StatusOr<std::unique_ptr<TunRelay>> Create(
      const RelayOptions& options);
  ~TunRelay();
  TunRelay(const TunRelay&) = delete;
  TunRelay& operator=(const TunRelay&) = delete;

  // Forwards until max_seconds, a stop signal or the "quit" command.
  absl::Status Run();

  // Executes one control command and returns the reply ("ok ...", an
  // "error ..." line, or the text asked for). See kCommandHelp.
  std::string Command(absl::string_view line);

  // "key=value" lines (see README.md for the keys).
  std::string StatsText();
  // Applies `spec` (ParseLinkSpec syntax) to the links `selector` names:
  // "all", "NAME" (both directions), "NAME.up", "NAME.down", or a
  // comma-separated list of these.
  absl::Status SetLinks(absl::string_view selector, absl::string_view spec);

  static const char kCommandHelp[];

 private:
  struct Port;
  struct Event;

  explicit TunRelay(const RelayOptions& options);
  absl::Status Open();
  absl::StatusOr<std::vector<int>> SelectLinks(absl::string_view selector) const;
  std::string LinkName(int link) const;
  void ReadPort(int port, int64_t now_ns);
  void Forward(int link, int dst_port, Proto proto, absl::string_view data,
               int64_t now_ns);
  void Push(int64_t due_ns, int link, int dst_port, Proto proto,
            std::string data);
  void RunDue(int64_t now_ns);
  void Write(int port, absl::string_view data);
  void HandleSignals();
  void HandleControl();

  RelayOptions options_;
  std::vector<Port> ports_;
  std::vector<LinkModel> links_;  // 2*i: port i up, 2*i+1: port i down
  std::vector<Event> heap_;  // a min-heap on (due_ns, seq)
  std::vector<char> read_buf_;
  uint64_t seq_ = 0;
  int control_fd_ = -1;
  int signal_fd_ = -1;
  bool stop_ = false;
  uint64_t unroutable_ = 0, overflow_ = 0, write_errors_ = 0;
};

}  // namespace moshx::netem

#endif  // MOSHX_TOOLS_NETEM_TUN_RELAY_H_
