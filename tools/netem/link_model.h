// The model of one direction of an emulated link, for the TUN relay
// (tun_relay.h): a test tool, not product code.
//
// A packet that enters a link goes through, in this order:
//   1. protocol filter  (drop all UDP, TCP, ICMP or every packet: `filtered`)
//   2. blackhole        (while frozen, everything is dropped: `blackholed`)
//   3. i.i.d. loss      (probability `loss`: `lost`)
//   4. bottleneck       (when rate_bps > 0: a FIFO served at rate_bps; a
//                        packet that would push the bytes waiting or in
//                        transmission above the queue limit is dropped:
//                        `queue_drops`, drop-tail; an empty queue always
//                        takes one packet)
//   5. propagation      (delay_ms, plus jitter uniform in [-jitter, +jitter],
//                        clamped at 0; unless `reorder`, a packet never
//                        leaves before the one admitted before it, so jitter
//                        does not reorder TCP segments; then packets closer
//                        together than the jitter range mostly see delays
//                        towards delay + jitter)
// and leaves at the time Admit() returns. Time is injected (nanoseconds of
// any monotonic clock) and every random draw comes from a std::mt19937_64
// seeded by the caller, so the same seed, configuration changes and arrivals
// replay the same verdicts: every packet that reaches step 3 draws loss, then
// (when jitter_ms > 0) jitter, whatever the outcome.
//
// Single-threaded; not thread-safe.
#ifndef MOSHX_TOOLS_NETEM_LINK_MODEL_H_
#define MOSHX_TOOLS_NETEM_LINK_MODEL_H_

#include <cstdint>
#include <deque>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::netem {

// Transport protocols the relay counts and filters separately.
enum class Proto { kTcp = 0, kUdp = 1, kIcmp = 2, kOther = 3 };
inline constexpr int kProtoCount = 4;
const char* ProtoName(Proto p);  // "tcp", "udp", "icmp", "other"

// Impairments of one direction. Every field can be changed at run time;
// a change applies to packets admitted afterwards.
struct LinkConfig {
  double delay_ms = 0;      // one-way propagation delay
  double jitter_ms = 0;     // uniform +/- around delay_ms, total >= 0
  bool reorder = false;     // let jitter reorder packets
  double loss = 0;          // i.i.d. drop probability, 0..1
  double rate_bps = 0;      // bottleneck in bits/s of IP packets; 0: none
  // Queue limit of the bottleneck (only with rate_bps > 0). When queue_ms
  // > 0 the limit is queue_ms of transmission at the current rate, else
  // queue_bytes.
  double queue_bytes = 0;
  double queue_ms = 0;
  // Bit i set: packets of Proto i are dropped (bit 4 and above: ignored).
  uint32_t drop_mask = 0;
};

// Parses "key=value,key=value" into *config, changing only the keys given:
//   delay=25ms | 25 (ms) | 0.025s    jitter=2ms    reorder=0|1
//   loss=0.05 | 5%                   rate=20mbit | 20M | 500kbit | 1e6 (bit/s)
//   queue=64k | 64KB | 100000 (bytes) | 50ms (time at the current rate)
//   drop=udp | tcp | icmp | all | none | udp+tcp   (replaces the mask)
// "clean" (alone) resets every field to its default. InvalidArgument names
// the bad key or value.
absl::Status ParseLinkSpec(absl::string_view spec, LinkConfig* config);
// The config in ParseLinkSpec's syntax (round-trips).
std::string LinkSpecString(const LinkConfig& config);
// Parses a protocol name of ParseLinkSpec's drop= into a mask ("all": every
// protocol; "none": 0).
absl::StatusOr<uint32_t> ParseProtoMask(absl::string_view names);

// Counters of one direction. Once nothing is in flight:
//   in == delivered + filtered + blackholed + lost + queue_drops
// (delivered counts packets that left the link, whatever happens next).
struct LinkStats {
  struct Count {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    void Add(size_t size) {
      ++packets;
      bytes += size;
    }
  };
  Count in, delivered, filtered, blackholed, lost, queue_drops;
  Count proto_in[kProtoCount];
  Count proto_delivered[kProtoCount];
  // Largest backlog of the bottleneck seen (bytes waiting or in
  // transmission, after admitting a packet).
  uint64_t max_queue_bytes = 0;
};

class LinkModel {
 public:
  enum class Verdict { kPass, kFiltered, kBlackholed, kLost, kQueueDrop };
  struct Result {
    Verdict verdict;
    int64_t leave_ns;  // kPass only: when the packet leaves the link
  };

  explicit LinkModel(uint64_t seed);

  const LinkConfig& config() const { return config_; }
  void set_config(const LinkConfig& config) { config_ = config; }

  // Blackholes the link until `until_ns` (a later freeze replaces it).
  void FreezeUntil(int64_t until_ns) { frozen_until_ns_ = until_ns; }
  bool Frozen(int64_t now_ns) const { return now_ns < frozen_until_ns_; }

  // A packet of `size` bytes (IP header included) and protocol `proto`
  // enters at `now_ns` (non-decreasing across calls). Counts it.
  Result Admit(size_t size, Proto proto, int64_t now_ns);
  // The packet admitted with kPass leaves the link at `now_ns`: counts it as
  // delivered, or, when the link is frozen by then, as blackholed (returns
  // false: the caller drops it).
  bool Leave(size_t size, Proto proto, int64_t now_ns);

  // Bytes waiting for or in transmission at the bottleneck at `now_ns`.
  uint64_t QueuedBytes(int64_t now_ns);

  const LinkStats& stats() const { return stats_; }
  void ClearStats() { stats_ = LinkStats(); }

 private:
  struct Backlog {
    int64_t finish_ns;
    uint64_t bytes;
  };

  LinkConfig config_;
  std::mt19937_64 rng_;
  LinkStats stats_;
  int64_t frozen_until_ns_ = 0;
  int64_t busy_until_ns_ = 0;   // the bottleneck finishes its backlog
  int64_t last_leave_ns_ = 0;   // for order preservation
  std::deque<Backlog> backlog_;
  uint64_t backlog_bytes_ = 0;
};

}  // namespace moshx::netem

#endif  // MOSHX_TOOLS_NETEM_LINK_MODEL_H_
