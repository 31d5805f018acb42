// StreamMux: reliable, ordered, flow-controlled byte streams multiplexed over
// one unreliable frame channel (one frame type of an association).
//
// What it gives its users (forwarded TCP connections, the agent channel, the
// scrollback history of issue 14), without knowing any of them:
//  * Streams opened by either side; ids carry the initiator in bit 0 (client
//    0, server 1), so both can open at once without a handshake. The first
//    chunk that names a new peer id opens it (and every lower one).
//  * Bytes arrive once, in order; FIN ends one direction (half-close: the
//    other keeps flowing); RESET aborts both directions at once.
//  * Retransmission of exactly the byte ranges that were lost: frames carry
//    packet numbers, the receiver acknowledges them in ranges, and the sender
//    maps a lost packet back to the (stream, offset, length) chunks it held.
//    Loss is declared after 3 later packets were acknowledged or 9/8 RTT went
//    by; a probe timeout (PTO) with exponential backoff capped at
//    `max_probe_timeout` recovers tail losses and outages.
//  * Backpressure instead of unbounded memory: Write() accepts at most the
//    stream's send buffer; the receiver advertises per-stream and
//    connection-wide limits (MAX_STREAM_DATA, MAX_DATA) that only grow as the
//    application reads, so unread data is bounded by the windows.
//  * A cap on peer-opened streams: the peer may open `max_incoming_streams`
//    more than have fully closed (MAX_STREAMS); chunks beyond it are counted
//    (stats().streams_refused) and ignored.
//  * Priorities: a stream of a lower priority number always goes first;
//    streams of one priority share by weighted round robin (weight = packets
//    per turn). The terminal's SSP frames are not streams: they bypass this
//    class entirely, and the congestion controller (congestion_controller.h)
//    keeps the shared bottleneck queue short so they are not delayed.
//  * Paths and outages: all state is per association, none per path. After
//    a path change (OnPathChange()) or a long silence the congestion model
//    restarts and everything in flight is sent again. If the peer stays
//    silent for `outage_limit` while we wait for acknowledgements, every
//    stream is reset (code kResetOutage) on this side and a RESET is queued
//    for the peer, which resets its side when it hears it.
//
// Wire format: net/stream/frame_format.h. Initial limits are protocol
// constants (kInitial*) so no handshake is needed; each side raises them
// with its first frame.
//
// Callbacks (incoming stream, readable, writable, reset) run on the loop
// thread after the mux has finished processing a frame or timer, never in
// the middle; they may call any method, including Reset() and Read().
//
// Every malformed frame, flow-control violation and over-limit stream is a
// counted drop (stats()), never a crash.
//
// Ownership: `loop`, `clock` and `channel` must outlive the mux. Stream ids
// stay valid until the stream is gone (after a reset callback, or after both
// directions ended: EOF read and our FIN acknowledged); calls with a gone id
// do nothing and report closed. Not thread-safe: loop thread only.
#ifndef MOSHX_NET_STREAM_STREAM_MUX_H_
#define MOSHX_NET_STREAM_STREAM_MUX_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/clock.h"
#include "net/event_loop.h"
#include "net/stream/congestion_controller.h"
#include "net/stream/frame_channel.h"
#include "net/stream/frame_format.h"
#include "net/stream/interval_set.h"

namespace moshx::net::stream {

using StreamId = uint64_t;

// Priorities (lower goes first). The terminal itself is not a stream.
inline constexpr int kPriorityHistory = 2;   // scrollback lines (issue 14)
inline constexpr int kPriorityDefault = 4;   // forwarded connections, agent
inline constexpr int kPriorityBulk = 6;
inline constexpr int kMaxPriority = 7;

// Reset codes the mux itself uses; applications use their own above 0xff.
inline constexpr uint64_t kResetOutage = 1;     // peer silent beyond outage_limit

// Limits both sides assume before the peer's first MAX_* chunk.
inline constexpr uint64_t kInitialStreamWindow = 64 * 1024;
inline constexpr uint64_t kInitialConnectionWindow = 256 * 1024;
inline constexpr uint64_t kInitialMaxStreams = 8;

struct StreamOptions {
  int priority = kPriorityDefault;  // 0..kMaxPriority
  int weight = 1;                   // 1..16 packets per round-robin turn
  // Bytes Write() holds (unsent + unacknowledged); 0: MuxConfig::send_buffer.
  size_t send_buffer = 0;
};

struct MuxConfig {
  bool is_server = false;
  // Receive windows (bytes we buffer unread), >= the kInitial* values. The
  // stream window should cover the bandwidth-delay product of the fastest
  // path one stream must fill (1 MiB: 160 Mbit/s at 50 ms).
  uint64_t stream_window = 1024 * 1024;
  uint64_t connection_window = 4 * 1024 * 1024;
  size_t send_buffer = 1024 * 1024;
  uint64_t max_incoming_streams = 128;  // >= kInitialMaxStreams
  // Peer silence (while we wait for acks) after which all streams reset.
  absl::Duration outage_limit = absl::Minutes(10);
  // How long a receiver may hold an ack for a lone packet.
  absl::Duration max_ack_delay = absl::Milliseconds(5);
  // Cap of the probe-timeout backoff: during an outage one probe per this
  // interval, so streams resume at most this long after the path returns.
  absl::Duration max_probe_timeout = absl::Seconds(1);
  absl::Duration queue_budget = CongestionController::kDefaultQueueBudget;
};

struct MuxStats {
  uint64_t frames_sent = 0;
  uint64_t ack_only_frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t duplicate_frames = 0;
  uint64_t dropped_malformed = 0;      // unparsable, or acks for unsent packets
  uint64_t send_errors = 0;
  uint64_t packets_lost = 0;           // declared lost (incl. by probe timeouts)
  uint64_t bytes_retransmitted = 0;
  uint64_t probe_timeouts = 0;
  uint64_t persistent_congestion = 0;  // outages detected (>= 2 probe timeouts)
  uint64_t flow_control_violations = 0;
  uint64_t final_size_violations = 0;
  uint64_t segments_dropped = 0;       // out-of-order segment cap per stream
  uint64_t streams_opened_by_peer = 0;
  uint64_t streams_refused = 0;        // peer ids beyond our MAX_STREAMS
  uint64_t unknown_stream_chunks = 0;  // chunks for streams we never opened
  uint64_t outage_resets = 0;          // streams reset by outage_limit
  uint64_t path_changes = 0;
};

class StreamMux {
 public:
  struct StreamCallbacks {
    std::function<void()> on_readable;             // data or EOF can be read
    std::function<void()> on_writable;             // Write() accepts bytes again
    std::function<void(uint64_t code)> on_reset;   // the stream is gone
  };
  // A peer opened `id`; set its callbacks (and options) now or later.
  using IncomingHandler = std::function<void(StreamId id)>;

  StreamMux(EventLoop* loop, const Clock* clock, FrameChannel* channel, MuxConfig config);
  ~StreamMux();
  StreamMux(const StreamMux&) = delete;
  StreamMux& operator=(const StreamMux&) = delete;

  // --- Streams ----------------------------------------------------------------

  // ResourceExhausted if the peer's stream limit is reached (retry after a
  // stream closes), InvalidArgument for bad options.
  absl::StatusOr<StreamId> Open(const StreamOptions& options = {}, StreamCallbacks callbacks = {});
  // Takes the next local stream id without opening a stream: nothing is
  // sent and nothing is held. A peer that later sees a higher id of ours
  // opens this one implicitly and finds it empty (its data never comes).
  // For an id whose meaning is fixed by position (the history stream, id 1
  // of a server, docs/protocol.md §7.6) when there is nothing to send on it.
  StreamId ReserveLocalId() { return (next_local_index_++ << 1) | (config_.is_server ? 1 : 0); }
  void set_incoming_handler(IncomingHandler handler) { on_incoming_ = std::move(handler); }
  // NotFound for a gone stream.
  absl::Status SetCallbacks(StreamId id, StreamCallbacks callbacks);
  absl::Status SetOptions(StreamId id, const StreamOptions& options);

  // Buffers up to Writable(id) bytes of `data`; returns how many. After a
  // short write, on_writable runs once a quarter of the buffer is free.
  size_t Write(StreamId id, absl::string_view data);
  size_t Writable(StreamId id) const;
  // No more writes: the peer reads EOF after the buffered bytes.
  void Finish(StreamId id);
  // Aborts both directions; the peer's on_reset gets `code`. No callback here.
  void Reset(StreamId id, uint64_t code);

  // Reads up to `max` in-order bytes (0: none now, or EOF).
  size_t Read(StreamId id, char* out, size_t max);
  std::string Read(StreamId id, size_t max);
  size_t Readable(StreamId id) const;
  // The peer finished and every byte was read (also true for a gone stream).
  bool AtEof(StreamId id) const;
  bool Exists(StreamId id) const;
  // Bytes of this stream the peer acknowledged (contiguous from 0).
  uint64_t BytesAcked(StreamId id) const;

  // --- The channel --------------------------------------------------------------

  // One frame from the peer (authentic: the association checked it).
  void OnFrame(absl::string_view frame);
  // The association's path or peer address changed (roam, UDP <-> ssh).
  void OnPathChange();

  size_t open_streams() const;
  size_t bytes_in_flight() const { return bytes_in_flight_; }
  // Gives back the memory of every buffer with nothing in it: send buffers
  // whose bytes were all acknowledged and receive buffers read to the end
  // keep the capacity a burst grew them to until this is called (the
  // server calls it after a burst of output, docs/benchmarks.md "Server
  // memory after a flood"). Costs the next write or frame a new allocation.
  void ReleaseIdleBuffers();
  // Bytes allocated for the streams' send and receive buffers.
  size_t buffer_capacity() const;
  const MuxStats& stats() const { return stats_; }
  const CongestionController& congestion() const { return cc_; }
  std::optional<absl::Duration> smoothed_rtt() const;
  // One line per stream plus the connection's counters, for logs and tests.
  std::string DebugString() const;

 private:
  struct Stream;
  struct SentChunk {
    StreamId id;
    uint64_t offset;
    uint32_t length;
    bool fin;
  };
  struct SentControl {
    ChunkType type;
    StreamId id;
    uint64_t value;
  };
  struct SentPacket {
    MonoTime sent_time;
    size_t bytes = 0;
    DeliverySnapshot snapshot;
    absl::InlinedVector<SentChunk, 2> chunks;
    absl::InlinedVector<SentControl, 1> controls;
  };
  enum class EventKind { kIncoming, kReadable, kWritable, kReset };
  struct Event {
    EventKind kind;
    StreamId id;
    uint64_t code = 0;
    std::function<void(uint64_t)> on_reset;  // kReset: the gone stream's callback
    std::function<void()> on_readable;       // kReadable of a stream freed meanwhile (EOF)
  };

  Stream* Find(StreamId id) const;  // live (not reset) streams only
  Stream* FindAny(StreamId id) const;
  bool IsLocal(StreamId id) const;
  Stream* CreateStream(StreamId id, const StreamOptions& options);
  Stream* StreamForChunk(StreamId id);
  void MaybeFree(Stream* s);
  void Kill(Stream* s, uint64_t code, bool notify);
  void SettleFinalSize(Stream* s, uint64_t final_size);
  void DiscardUnread(Stream* s);
  void MaybeUpdateWindows(Stream* s);

  // Receiving.
  void OnStreamChunk(const Chunk& c);
  void OnResetChunk(const Chunk& c);
  void OnMaxStreamData(const Chunk& c);
  bool InsertData(Stream* s, uint64_t offset, absl::string_view data);
  void OnAck(MonoTime now, const AckChunk& ack);
  void OnPacketAcked(const SentPacket& p);
  void OnPacketLost(const SentPacket& p);
  void DetectLosses(MonoTime now);
  void AddRttSample(absl::Duration sample, absl::Duration ack_delay);

  // Sending.
  void Process();
  void CheckOutage(MonoTime now);
  void OnProbeTimeout(MonoTime now);
  void DeclareAllLost();
  void SendPackets(MonoTime now);
  bool BuildAndSend(MonoTime now, bool allow_data, bool probe);
  void AppendControls(std::string* frame, size_t limit, SentPacket* record);
  bool AppendStreamData(Stream* s, std::string* frame, size_t limit, SentPacket* record);
  bool Sendable(const Stream& s) const;
  uint64_t NewDataAllowance(const Stream& s) const;
  Stream* PickStream();
  AckChunk BuildAck(MonoTime now) const;
  absl::Duration ProbeTimeout() const;
  MonoTime ProbeDeadline() const;
  bool WaitingForPeer() const;
  MonoTime NextWakeup();
  void Reschedule();
  void Dispatch();

  EventLoop* const loop_;
  const Clock* const clock_;
  FrameChannel* const channel_;
  const MuxConfig config_;
  const size_t mss_;
  CongestionController cc_;
  MuxStats stats_;

  std::map<StreamId, std::unique_ptr<Stream>> streams_;
  uint64_t next_local_index_ = 0;
  uint64_t next_peer_index_ = 0;
  uint64_t peer_stream_limit_ = kInitialMaxStreams;
  uint64_t incoming_limit_ = kInitialMaxStreams;
  std::map<int, StreamId> rr_cursor_;  // priority -> last stream served
  IncomingHandler on_incoming_;
  std::vector<Event> events_;
  bool dispatching_ = false;

  // Connection-level flow control.
  uint64_t peer_max_data_ = kInitialConnectionWindow;
  uint64_t sent_new_bytes_ = 0;       // sum of new-data frontiers
  uint64_t conn_advertised_ = kInitialConnectionWindow;
  uint64_t conn_received_ = 0;        // sum of highest received offsets
  uint64_t conn_consumed_ = 0;        // read or discarded
  bool max_data_pending_ = false;
  bool max_streams_pending_ = false;
  bool controls_urgent_ = false;      // something beyond the lazy first limits
  std::set<StreamId> control_streams_;  // MAX_STREAM_DATA or RESET pending

  // Packets.
  uint64_t next_pn_ = 0;
  std::map<uint64_t, SentPacket> sent_;
  size_t bytes_in_flight_ = 0;
  std::optional<uint64_t> largest_acked_;
  MonoTime last_eliciting_sent_;
  MonoTime loss_time_ = MonoTime::Infinite();
  int pto_count_ = 0;
  bool probe_pending_ = false;
  MonoTime last_heard_;               // last authentic frame from the peer
  MonoTime waiting_since_;            // outage clock start
  bool idle_ = true;                  // everything we sent was acknowledged

  // RTT (for loss detection and probe timeouts; the controller keeps its own).
  bool has_rtt_ = false;
  absl::Duration srtt_ = absl::Milliseconds(300);
  absl::Duration rttvar_ = absl::Milliseconds(150);
  absl::Duration latest_rtt_ = absl::ZeroDuration();
  absl::Duration min_rtt_ = absl::InfiniteDuration();

  // Acknowledging the peer's packets.
  IntervalSet received_;
  uint64_t largest_received_ = 0;
  bool any_received_ = false;
  MonoTime largest_received_time_;
  bool ack_pending_ = false;
  int eliciting_since_ack_ = 0;
  MonoTime ack_deadline_ = MonoTime::Infinite();

  EventLoop::AlarmId alarm_ = 0;
  MonoTime alarm_time_ = MonoTime::Infinite();
};

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_STREAM_MUX_H_
