// SimulatedNetwork: an in-process, seeded, virtual-time network for tests.
//
// One object implements the EventLoop and the Clock, and hands out
// DatagramSockets on simulated hosts, so the same Connection/Transport code
// that runs on PollEventLoop + UdpSocket runs here unchanged:
//
//   SimulatedNetwork net(/*seed=*/7);
//   SimulatedNetwork::Host* client = net.AddHost("10.0.0.1");
//   SimulatedNetwork::Host* server = net.AddHost("10.0.0.2");
//   net.SetLink(client, server, {.delay = absl::Milliseconds(50), .loss = 0.3});
//   auto socket = server->Bind(60001);          // DatagramSocket
//   ... construct Transports with (&net, &net, socket) ...
//   net.RunUntil([&] { return done; }, absl::Seconds(30));
//
// Links are per direction (from host -> to host) and apply, per datagram:
// MTU (drop silently, or fail SendTo with DatagramTooLargeError), loss
// (i.i.d. with probability `loss`, or bursty with a Gilbert-Elliott two-state
// chain), duplication, a base delay plus uniform jitter in [0, jitter], and
// reordering (with probability `reorder`, an extra `reorder_delay`), and an
// optional bottleneck (a rate and a bounded drop-tail queue). Jitter
// also reorders; with probability `congestion_mark` a copy arrives with ECN
// "congestion experienced" set. Datagrams are routed by destination address at delivery
// time, so a host that moved (Rebind) no longer receives traffic sent to its
// old address. Every random choice comes from one std::mt19937_64 seeded at
// construction: a run replays exactly.
//
// Time: the clock starts at the epoch and only moves inside RunOnce/RunFor/
// RunUntil, jumping straight to the next event, so idle virtual seconds cost
// nothing. Sockets have fake descriptors (>= kFirstFakeFd) that only this
// loop can watch; watches are level-triggered like poll(2).
//
// Ownership: hosts live as long as the network; sockets returned by Bind()/
// Open() are owned by the caller and must be destroyed before the network.
// Not thread-safe.
#ifndef MOSHX_NET_TESTING_SIMULATED_NETWORK_H_
#define MOSHX_NET_TESTING_SIMULATED_NETWORK_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "net/clock.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"

namespace moshx::net::testing {

// Bursty loss: a two-state Markov chain evaluated per datagram.
struct GilbertElliott {
  double p_good_to_bad = 0;  // per datagram, in the good state
  double p_bad_to_good = 0;  // per datagram, in the bad state
  double loss_in_good = 0;
  double loss_in_bad = 1;
};

enum class MtuBehavior { kDrop, kEmsgsize };

struct LinkParams {
  absl::Duration delay = absl::Milliseconds(10);
  absl::Duration jitter = absl::ZeroDuration();
  double loss = 0;                 // i.i.d.; ignored when `bursty` is set
  bool bursty = false;
  GilbertElliott gilbert_elliott;
  double duplicate = 0;            // probability of one extra copy
  double reorder = 0;              // probability of the extra delay below
  absl::Duration reorder_delay = absl::Milliseconds(50);
  double congestion_mark = 0;      // probability of an ECN CE mark
  size_t mtu = 1500;               // datagram payload bytes
  MtuBehavior mtu_behavior = MtuBehavior::kDrop;
  // Bottleneck: 0 = infinitely fast. Otherwise datagrams are serialized at
  // this rate (counting `header_bytes` of IP+UDP per datagram) through a FIFO
  // that holds at most `queue_bytes` (0 = unbounded); a datagram that does not
  // fit is tail-dropped (LinkStats::queue_drops). The base delay, jitter and
  // reordering apply after the datagram leaves the queue.
  double rate_bits_per_second = 0;
  size_t queue_bytes = 0;
  size_t header_bytes = 28;
};

// Per-direction counters.
struct LinkStats {
  uint64_t sent = 0;        // SendTo calls accepted
  uint64_t lost = 0;        // dropped by loss
  uint64_t too_large = 0;   // dropped or rejected by MTU
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t delivered = 0;   // copies that reached a socket
  uint64_t unroutable = 0;  // copies whose destination had no socket
  uint64_t queue_drops = 0; // tail-dropped at a full bottleneck queue
};

class SimulatedNetwork : public EventLoop, public Clock {
 public:
  static constexpr int kFirstFakeFd = 1 << 24;

  class Host;

  explicit SimulatedNetwork(uint64_t seed);
  ~SimulatedNetwork() override;
  SimulatedNetwork(const SimulatedNetwork&) = delete;
  SimulatedNetwork& operator=(const SimulatedNetwork&) = delete;

  // Adds a host with a numeric IPv4/IPv6 address (asserted valid).
  Host* AddHost(absl::string_view ip);
  // Link parameters for datagrams from `from` to `to` (default: the
  // LinkParams defaults). SetLinks sets both directions.
  void SetLink(const Host* from, const Host* to, const LinkParams& params);
  void SetLinks(const Host* a, const Host* b, const LinkParams& params);
  const LinkStats& stats(const Host* from, const Host* to);

  // Moves `host` to a new IP address; its sockets keep their ports and
  // change their local address. Datagrams in flight to the old address are
  // lost (unroutable).
  void Rebind(Host* host, absl::string_view new_ip);

  // Injects a raw datagram from an arbitrary source address, delivered to
  // `to` after `delay` without link effects (forgery/replay tests).
  void Inject(const Address& from, const Address& to, std::string payload,
              absl::Duration delay = absl::ZeroDuration());

  // Observes every datagram a simulated socket sends (before link effects):
  // for tests that measure send times or capture datagrams to replay.
  using Tap = std::function<void(MonoTime when, const Address& from, const Address& to,
                                 absl::string_view payload)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }

  // Clock.
  MonoTime Now() const override { return now_; }

  // EventLoop.
  absl::Status WatchFd(int fd, uint32_t events, FdCallback callback) override;
  void UnwatchFd(int fd) override;
  AlarmId ScheduleAlarm(MonoTime deadline, std::function<void()> callback) override;
  bool CancelAlarm(AlarmId id) override;
  absl::Status WatchSignal(int signo, std::function<void()> callback) override;
  absl::Status RunOnce(absl::Duration timeout) override;

  // Delivers `signo` to WatchSignal callbacks at the next RunOnce().
  void RaiseSignal(int signo);

  // Runs until virtual time has advanced by `duration`.
  void RunFor(absl::Duration duration);
  // Runs until `done()` is true (checked after every step) or `limit` of
  // virtual time has passed. Returns done().
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit);

  // Steps taken by RunOnce (each: deliveries/alarms at one instant or one
  // round of socket callbacks); a CPU-cost proxy that does not depend on
  // the machine.
  uint64_t steps() const { return steps_; }
  uint64_t events_processed() const { return events_processed_; }
  // Datagram copies (on any link, or injected) that found no socket.
  uint64_t unroutable() const { return unroutable_; }

 private:
  class SimSocket;
  struct Event;
  struct EventOrder {
    bool operator()(const Event* a, const Event* b) const;
  };

  friend class Host;
  absl::StatusOr<std::unique_ptr<DatagramSocket>> OpenSocket(Host* host, uint16_t port);
  void CloseSocket(SimSocket* socket);
  absl::Status Send(SimSocket* from, const Address& to, absl::string_view payload);
  void Enqueue(MonoTime at, const Address& from, const Address& to, std::string payload,
               const Host* from_host, const Host* to_host);
  bool Lose(const LinkParams& p, bool& bad_state);
  const Host* HostAt(const Address& ip) const;
  bool DeliverReadable();
  void ProcessEventsAt(MonoTime t);

  struct LinkState {
    LinkParams params;
    LinkStats stats;
    bool bad = false;  // Gilbert-Elliott state
    MonoTime busy_until;  // bottleneck: when the queue will have drained
  };
  LinkState& Link(const Host* from, const Host* to);

  std::mt19937_64 rng_;
  MonoTime now_;
  uint64_t steps_ = 0;
  uint64_t events_processed_ = 0;
  uint64_t unroutable_ = 0;
  uint64_t next_event_seq_ = 0;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::map<std::pair<const Host*, const Host*>, LinkState> links_;
  absl::flat_hash_map<Address, SimSocket*> bound_;
  absl::flat_hash_map<int, SimSocket*> sockets_by_fd_;
  int next_fd_ = kFirstFakeFd;
  std::map<int, FdCallback> watches_;  // ordered: deterministic callbacks
  // Pending events ordered by (time, seq).
  std::map<std::pair<MonoTime, uint64_t>, std::unique_ptr<Event>> events_;
  absl::flat_hash_map<AlarmId, std::pair<MonoTime, uint64_t>> alarm_keys_;
  AlarmId next_alarm_id_ = 1;
  std::map<int, std::function<void()>> signal_watches_;
  std::vector<int> raised_signals_;
  Tap tap_;
};

// A simulated machine with one IP address. Also the DatagramSocketFactory
// for client port hopping (ephemeral ports from 49152 up).
class SimulatedNetwork::Host : public DatagramSocketFactory {
 public:
  Host(SimulatedNetwork* network, Address ip) : network_(network), ip_(ip) {}

  const Address& ip() const { return ip_; }
  // A socket on `port` (0: the next free ephemeral port). AlreadyExists if
  // the port is taken.
  absl::StatusOr<std::unique_ptr<DatagramSocket>> Bind(uint16_t port);
  absl::StatusOr<std::unique_ptr<DatagramSocket>> Open(AddressFamily family) override;

 private:
  friend class SimulatedNetwork;
  SimulatedNetwork* network_;
  Address ip_;
  uint16_t next_ephemeral_ = 49152;
};

}  // namespace moshx::net::testing

#endif  // MOSHX_NET_TESTING_SIMULATED_NETWORK_H_
