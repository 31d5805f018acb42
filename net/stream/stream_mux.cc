#include "net/stream/stream_mux.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace moshx::net::stream {
namespace {
constexpr uint64_t kPacketThreshold = 3;
constexpr absl::Duration kGranularity = absl::Milliseconds(1);
// Out-of-order segments one stream keeps (adjacent ones merge, so an honest
// sender needs about one per loss hole in the window).
constexpr size_t kMaxSegments = 512;
constexpr size_t kMaxReceivedRanges = kMaxAckRanges;
// Packets sent per timer or frame, so one busy mux cannot starve the loop.
constexpr int kMaxPacketsPerTurn = 64;
}  // namespace

struct StreamMux::Stream {
  StreamId id;
  StreamOptions options;
  StreamCallbacks callbacks;
  bool dead = false;  // reset (either side): kept only to finish the RESET exchange
  uint64_t reset_code = 0;
  bool reset_pending = false;  // a RESET chunk must be (re)sent
  bool reset_acked = false;
  int rr_credit = 0;

  // Send side: bytes [send_base, write_end) are held in send_buf[send_head..].
  std::string send_buf;
  size_t send_head = 0;
  uint64_t send_base = 0;
  uint64_t next_new = 0;  // frontier of data sent at least once
  IntervalSet acked;      // acknowledged ranges above send_base
  IntervalSet retransmit; // lost ranges still to resend
  uint64_t peer_max = kInitialStreamWindow;
  bool fin_requested = false;
  bool fin_sent = false;
  bool fin_lost = false;
  bool fin_acked = false;
  bool want_writable = false;

  // Receive side: in-order unread bytes recv_buf[recv_head..] start at read_offset.
  std::string recv_buf;
  size_t recv_head = 0;
  uint64_t read_offset = 0;
  std::map<uint64_t, std::string> segments;  // out of order, disjoint, > contiguous end
  uint64_t highest_received = 0;
  std::optional<uint64_t> final_size;
  uint64_t advertised_max = kInitialStreamWindow;
  bool max_pending = false;

  uint64_t write_end() const { return send_base + (send_buf.size() - send_head); }
  uint64_t contiguous_end() const { return read_offset + (recv_buf.size() - recv_head); }
  size_t send_limit(const MuxConfig& c) const {
    return options.send_buffer ? options.send_buffer : c.send_buffer;
  }
};

StreamMux::StreamMux(EventLoop* loop, const Clock* clock, FrameChannel* channel,
                     MuxConfig config)
    : loop_(loop),
      clock_(clock),
      channel_(channel),
      config_([&] {
        config.stream_window = std::max(config.stream_window, kInitialStreamWindow);
        config.connection_window = std::max(config.connection_window, kInitialConnectionWindow);
        config.max_incoming_streams = std::max(config.max_incoming_streams, kInitialMaxStreams);
        return config;
      }()),
      mss_(std::max(channel->max_frame_size(), kMinFrameSize)),
      cc_(mss_, config_.queue_budget) {
  // Our real limits go out with the first frame we send (lazily: an idle
  // mux sends nothing).
  if (config_.connection_window > conn_advertised_) {
    conn_advertised_ = config_.connection_window;
    max_data_pending_ = true;
  }
  if (config_.max_incoming_streams > incoming_limit_) {
    incoming_limit_ = config_.max_incoming_streams;
    max_streams_pending_ = true;
  }
  last_heard_ = clock_->Now();
  waiting_since_ = last_heard_;
}

StreamMux::~StreamMux() {
  if (alarm_ != 0) loop_->CancelAlarm(alarm_);
}

// --- Stream table ---------------------------------------------------------------

bool StreamMux::IsLocal(StreamId id) const { return (id & 1) == (config_.is_server ? 1 : 0); }

StreamMux::Stream* StreamMux::FindAny(StreamId id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

StreamMux::Stream* StreamMux::Find(StreamId id) const {
  Stream* s = FindAny(id);
  return s != nullptr && !s->dead ? s : nullptr;
}

StreamMux::Stream* StreamMux::CreateStream(StreamId id, const StreamOptions& options) {
  auto s = std::make_unique<Stream>();
  s->id = id;
  s->options = options;
  if (config_.stream_window > s->advertised_max) {
    s->advertised_max = config_.stream_window;
    s->max_pending = true;
    control_streams_.insert(id);
  }
  Stream* raw = s.get();
  streams_[id] = std::move(s);
  return raw;
}

absl::StatusOr<StreamId> StreamMux::Open(const StreamOptions& options,
                                         StreamCallbacks callbacks) {
  if (options.priority < 0 || options.priority > kMaxPriority || options.weight < 1 ||
      options.weight > 16) {
    return absl::InvalidArgumentError("stream priority or weight out of range");
  }
  if (next_local_index_ >= peer_stream_limit_) {
    return absl::ResourceExhaustedError("the peer's limit of open streams is reached");
  }
  StreamId id = (next_local_index_++ << 1) | (config_.is_server ? 1 : 0);
  Stream* s = CreateStream(id, options);
  s->callbacks = std::move(callbacks);
  controls_urgent_ = true;
  Reschedule();
  return id;
}

absl::Status StreamMux::SetCallbacks(StreamId id, StreamCallbacks callbacks) {
  Stream* s = Find(id);
  if (s == nullptr) return absl::NotFoundError("no such stream");
  s->callbacks = std::move(callbacks);
  return absl::OkStatus();
}

absl::Status StreamMux::SetOptions(StreamId id, const StreamOptions& options) {
  Stream* s = Find(id);
  if (s == nullptr) return absl::NotFoundError("no such stream");
  if (options.priority < 0 || options.priority > kMaxPriority || options.weight < 1 ||
      options.weight > 16) {
    return absl::InvalidArgumentError("stream priority or weight out of range");
  }
  s->options = options;
  return absl::OkStatus();
}

bool StreamMux::Exists(StreamId id) const { return Find(id) != nullptr; }

size_t StreamMux::open_streams() const {
  size_t n = 0;
  for (const auto& [id, s] : streams_) n += s->dead ? 0 : 1;
  return n;
}

void StreamMux::MaybeFree(Stream* s) {
  bool done;
  if (s->dead) {
    done = s->reset_acked && s->final_size.has_value() && control_streams_.count(s->id) == 0;
  } else {
    done = s->fin_acked && s->send_base == s->write_end() && s->final_size.has_value() &&
           s->read_offset == *s->final_size;
  }
  if (!done) return;
  if (!IsLocal(s->id)) {
    ++incoming_limit_;
    max_streams_pending_ = true;
    controls_urgent_ = true;
  }
  // The application still hears about the EOF that completed the stream.
  for (Event& e : events_) {
    if (e.kind == EventKind::kReadable && e.id == s->id) e.on_readable = s->callbacks.on_readable;
  }
  control_streams_.erase(s->id);
  streams_.erase(s->id);
}

void StreamMux::DiscardUnread(Stream* s) {
  conn_consumed_ += s->highest_received - s->read_offset;
  s->read_offset = s->highest_received;
  s->recv_buf.clear();
  s->recv_head = 0;
  s->segments.clear();
  MaybeUpdateWindows(nullptr);
}

void StreamMux::Kill(Stream* s, uint64_t code, bool notify) {
  s->dead = true;
  s->reset_code = code;
  s->reset_pending = true;
  s->max_pending = false;
  control_streams_.insert(s->id);
  controls_urgent_ = true;
  s->send_buf.clear();
  s->send_head = 0;
  s->retransmit.Clear();
  DiscardUnread(s);
  if (notify) {
    events_.push_back({EventKind::kReset, s->id, code, s->callbacks.on_reset});
  }
  s->callbacks = {};
}

void StreamMux::SettleFinalSize(Stream* s, uint64_t final_size) {
  if (final_size > s->highest_received) {
    uint64_t delta = final_size - s->highest_received;
    conn_received_ += delta;
    if (s->dead) conn_consumed_ += delta;
    s->highest_received = final_size;
    if (s->dead) s->read_offset = final_size;
  }
  if (!s->final_size.has_value()) s->final_size = final_size;
  MaybeUpdateWindows(nullptr);
}

void StreamMux::ReleaseIdleBuffers() {
  for (auto& [id, s] : streams_) {
    if (s->send_head == s->send_buf.size()) {
      std::string().swap(s->send_buf);
      s->send_head = 0;
    }
    if (s->recv_head == s->recv_buf.size()) {
      std::string().swap(s->recv_buf);
      s->recv_head = 0;
    }
  }
}

size_t StreamMux::buffer_capacity() const {
  const size_t inline_capacity = std::string().capacity();  // no allocation
  auto allocated = [inline_capacity](const std::string& b) {
    return b.capacity() > inline_capacity ? b.capacity() : 0;
  };
  size_t total = 0;
  for (const auto& [id, s] : streams_) total += allocated(s->send_buf) + allocated(s->recv_buf);
  return total;
}

// --- Application calls --------------------------------------------------------------

size_t StreamMux::Writable(StreamId id) const {
  Stream* s = Find(id);
  if (s == nullptr || s->fin_requested) return 0;
  size_t held = s->send_buf.size() - s->send_head;
  size_t limit = s->send_limit(config_);
  return held < limit ? limit - held : 0;
}

size_t StreamMux::Write(StreamId id, absl::string_view data) {
  Stream* s = Find(id);
  size_t n = std::min(Writable(id), data.size());
  if (s == nullptr) return 0;
  if (n < data.size()) s->want_writable = true;
  if (n == 0) return 0;
  if (s->send_head > 0 && s->send_head >= s->send_buf.size() / 2) {
    s->send_buf.erase(0, s->send_head);
    s->send_head = 0;
  }
  s->send_buf.append(data.data(), n);
  Reschedule();
  return n;
}

void StreamMux::Finish(StreamId id) {
  Stream* s = Find(id);
  if (s == nullptr || s->fin_requested) return;
  s->fin_requested = true;
  Reschedule();
}

void StreamMux::Reset(StreamId id, uint64_t code) {
  Stream* s = Find(id);
  if (s == nullptr) return;
  Kill(s, code, /*notify=*/false);
  Reschedule();
}

size_t StreamMux::Readable(StreamId id) const {
  Stream* s = Find(id);
  return s == nullptr ? 0 : s->recv_buf.size() - s->recv_head;
}

bool StreamMux::AtEof(StreamId id) const {
  Stream* s = Find(id);
  return s == nullptr || (s->final_size.has_value() && s->read_offset == *s->final_size);
}

uint64_t StreamMux::BytesAcked(StreamId id) const {
  Stream* s = Find(id);
  return s == nullptr ? 0 : s->send_base;
}

size_t StreamMux::Read(StreamId id, char* out, size_t max) {
  Stream* s = Find(id);
  if (s == nullptr) return 0;
  size_t n = std::min(max, s->recv_buf.size() - s->recv_head);
  if (n == 0) return 0;
  std::memcpy(out, s->recv_buf.data() + s->recv_head, n);
  s->recv_head += n;
  s->read_offset += n;
  conn_consumed_ += n;
  if (s->recv_head == s->recv_buf.size()) {
    s->recv_buf.clear();
    s->recv_head = 0;
  } else if (s->recv_head >= 64 * 1024 && s->recv_head >= s->recv_buf.size() / 2) {
    s->recv_buf.erase(0, s->recv_head);
    s->recv_head = 0;
  }
  MaybeUpdateWindows(s);
  MaybeFree(s);
  Reschedule();
  return n;
}

std::string StreamMux::Read(StreamId id, size_t max) {
  std::string out(std::min(max, Readable(id)), '\0');
  out.resize(Read(id, out.data(), out.size()));
  return out;
}

void StreamMux::MaybeUpdateWindows(Stream* s) {
  if (s != nullptr && !s->dead && !s->final_size.has_value()) {
    uint64_t target = s->read_offset + config_.stream_window;
    if (target - s->advertised_max >= config_.stream_window / 4) {
      s->advertised_max = target;
      s->max_pending = true;
      control_streams_.insert(s->id);
      controls_urgent_ = true;
    }
  }
  uint64_t target = conn_consumed_ + config_.connection_window;
  if (target > conn_advertised_ &&
      target - conn_advertised_ >= config_.connection_window / 4) {
    conn_advertised_ = target;
    max_data_pending_ = true;
    controls_urgent_ = true;
  }
}

// --- Receiving ------------------------------------------------------------------

void StreamMux::OnFrame(absl::string_view frame) {
  MonoTime now = clock_->Now();
  absl::StatusOr<ParsedFrame> parsed = ParseFrame(frame);
  if (!parsed.ok() || (parsed->ack.has_value() &&
                       parsed->ack->ranges.front().last >= next_pn_)) {
    ++stats_.dropped_malformed;
    return;
  }
  ++stats_.frames_received;
  last_heard_ = now;
  waiting_since_ = now;
  uint64_t pn = parsed->packet_number;
  bool duplicate = received_.Contains(pn);
  if (duplicate) ++stats_.duplicate_frames;
  received_.Add(pn, pn + 1);
  while (received_.size() > kMaxReceivedRanges) received_.RemoveLowest();
  if (!any_received_ || pn > largest_received_) {
    bool gap = any_received_ && pn != largest_received_ + 1;
    largest_received_ = pn;
    largest_received_time_ = now;
    any_received_ = true;
    if (gap && parsed->ack_eliciting) ack_deadline_ = now;
  } else if (parsed->ack_eliciting) {
    ack_deadline_ = now;  // reordered or duplicate: tell the sender at once
  }
  if (parsed->ack_eliciting) {
    ack_pending_ = true;
    if (++eliciting_since_ack_ >= 2) ack_deadline_ = now;
    ack_deadline_ = std::min(ack_deadline_, now + config_.max_ack_delay);
  }
  if (parsed->ack.has_value()) OnAck(now, *parsed->ack);
  if (!duplicate) {
    for (const Chunk& c : parsed->chunks) {
      switch (c.type) {
        case ChunkType::kStream:
        case ChunkType::kStreamFin:
          OnStreamChunk(c);
          break;
        case ChunkType::kResetStream:
          OnResetChunk(c);
          break;
        case ChunkType::kMaxData:
          peer_max_data_ = std::max(peer_max_data_, c.value);
          break;
        case ChunkType::kMaxStreams:
          peer_stream_limit_ = std::max(peer_stream_limit_, std::min(c.value, kMaxVarint >> 1));
          break;
        case ChunkType::kMaxStreamData:
          OnMaxStreamData(c);
          break;
        default:
          break;  // PING: the ack is all it asks for
      }
    }
  }
  Process();
}

StreamMux::Stream* StreamMux::StreamForChunk(StreamId id) {
  if (Stream* s = FindAny(id)) return s;
  uint64_t index = id >> 1;
  if (IsLocal(id)) {
    if (index >= next_local_index_) ++stats_.unknown_stream_chunks;
    return nullptr;  // closed, or never opened
  }
  if (index < next_peer_index_) return nullptr;  // closed
  if (index >= incoming_limit_) {
    ++stats_.streams_refused;
    return nullptr;
  }
  Stream* s = nullptr;
  for (uint64_t i = next_peer_index_; i <= index; ++i) {
    StreamId new_id = (i << 1) | (config_.is_server ? 0 : 1);
    s = CreateStream(new_id, StreamOptions{});
    ++stats_.streams_opened_by_peer;
    controls_urgent_ = controls_urgent_ || s->max_pending;
    events_.push_back({EventKind::kIncoming, new_id});
  }
  next_peer_index_ = index + 1;
  return s;
}

void StreamMux::OnStreamChunk(const Chunk& c) {
  Stream* s = StreamForChunk(c.stream_id);
  if (s == nullptr) return;
  uint64_t end = c.offset + c.data.size();
  if ((s->final_size.has_value() && (end > *s->final_size ||
                                     (c.fin() && end != *s->final_size))) ||
      (c.fin() && end < s->highest_received)) {
    ++stats_.final_size_violations;
    return;
  }
  if (end > s->advertised_max) {
    ++stats_.flow_control_violations;
    return;
  }
  if (s->dead) {
    // Only the connection's accounting matters now: the bytes are discarded.
    if (end > s->highest_received) {
      conn_received_ += end - s->highest_received;
      conn_consumed_ += end - s->highest_received;
      s->highest_received = s->read_offset = end;
      MaybeUpdateWindows(nullptr);
    }
    if (c.fin()) s->final_size = end;
    MaybeFree(s);
    return;
  }
  if (end > s->highest_received) {
    uint64_t delta = end - s->highest_received;
    if (conn_received_ + delta > conn_advertised_) {
      ++stats_.flow_control_violations;
      return;
    }
    conn_received_ += delta;
    s->highest_received = end;
  }
  bool had_eof = s->final_size.has_value() && s->contiguous_end() == *s->final_size;
  if (c.fin()) s->final_size = end;
  bool grew = InsertData(s, c.offset, c.data);
  bool eof = s->final_size.has_value() && s->contiguous_end() == *s->final_size;
  if (grew || (eof && !had_eof)) events_.push_back({EventKind::kReadable, s->id});
  MaybeFree(s);
}

bool StreamMux::InsertData(Stream* s, uint64_t offset, absl::string_view data) {
  uint64_t contig = s->contiguous_end();
  uint64_t end = offset + data.size();
  if (end <= contig) return false;
  if (offset < contig) {
    data.remove_prefix(contig - offset);
    offset = contig;
  }
  if (offset == contig) {
    s->recv_buf.append(data.data(), data.size());
    contig = end;
    while (!s->segments.empty() && s->segments.begin()->first <= contig) {
      auto it = s->segments.begin();
      uint64_t seg_end = it->first + it->second.size();
      if (seg_end > contig) {
        s->recv_buf.append(it->second, contig - it->first, std::string::npos);
        contig = seg_end;
      }
      s->segments.erase(it);
    }
    return true;
  }
  // Out of order: store only the bytes no segment holds yet, merging
  // neighbours so an honest sender needs one segment per hole.
  auto it = s->segments.upper_bound(offset);
  uint64_t pos = offset;
  if (it != s->segments.begin()) {
    auto prev = std::prev(it);
    pos = std::max(pos, prev->first + prev->second.size());
  }
  while (pos < end) {
    uint64_t next_start = (it != s->segments.end() && it->first < end) ? it->first : end;
    if (pos < next_start) {
      if (s->segments.size() >= kMaxSegments) {
        ++stats_.segments_dropped;
        return false;
      }
      std::string piece(data.substr(pos - offset, next_start - pos));
      auto inserted = s->segments.emplace_hint(it, pos, std::move(piece));
      if (inserted != s->segments.begin()) {
        auto prev = std::prev(inserted);
        if (prev->first + prev->second.size() == inserted->first) {
          prev->second += inserted->second;
          s->segments.erase(inserted);
          inserted = prev;
        }
      }
      if (it != s->segments.end() &&
          inserted->first + inserted->second.size() == it->first) {
        inserted->second += it->second;
        it = s->segments.erase(it);
        pos = inserted->first + inserted->second.size();
        continue;
      }
    }
    if (it == s->segments.end() || it->first >= end) break;
    pos = std::max(pos, it->first + it->second.size());
    ++it;
  }
  return false;
}

void StreamMux::OnResetChunk(const Chunk& c) {
  Stream* s = StreamForChunk(c.stream_id);
  if (s == nullptr) return;
  uint64_t final_size = c.offset;
  if (final_size < s->highest_received ||
      (s->final_size.has_value() && *s->final_size != final_size)) {
    ++stats_.final_size_violations;
    final_size = std::max(final_size, s->highest_received);
  }
  if (final_size > s->advertised_max) {  // it cannot have sent that much
    ++stats_.flow_control_violations;
    final_size = s->advertised_max;
  }
  if (!s->dead) Kill(s, c.value, /*notify=*/true);  // our RESET answers with our final size
  SettleFinalSize(s, final_size);
  MaybeFree(s);
}

void StreamMux::OnMaxStreamData(const Chunk& c) {
  Stream* s = StreamForChunk(c.stream_id);
  if (s == nullptr || s->dead) return;
  s->peer_max = std::max(s->peer_max, c.value);
}

// --- Acknowledgements and loss -----------------------------------------------------

void StreamMux::AddRttSample(absl::Duration sample, absl::Duration ack_delay) {
  latest_rtt_ = sample;
  min_rtt_ = std::min(min_rtt_, sample);
  ack_delay = std::min(ack_delay, config_.max_ack_delay);
  absl::Duration adjusted = sample - ack_delay >= min_rtt_ ? sample - ack_delay : sample;
  if (!has_rtt_) {
    has_rtt_ = true;
    srtt_ = adjusted;
    rttvar_ = adjusted / 2;
    return;
  }
  absl::Duration diff = srtt_ > adjusted ? srtt_ - adjusted : adjusted - srtt_;
  rttvar_ = (rttvar_ * 3 + diff) / 4;
  srtt_ = (srtt_ * 7 + adjusted) / 8;
}

std::string StreamMux::DebugString() const {
  std::string out = absl::StrCat(
      "in_flight=", bytes_in_flight_, " cwnd=", cc_.cwnd(), " sent=", sent_.size(),
      " pto_count=", pto_count_, " peer_max_data=", peer_max_data_, " sent_new=",
      sent_new_bytes_, " conn_adv=", conn_advertised_, " conn_recv=", conn_received_,
      " conn_consumed=", conn_consumed_, " lost=", stats_.packets_lost,
      " fc_viol=", stats_.flow_control_violations, " fin_viol=", stats_.final_size_violations,
      " seg_drop=", stats_.segments_dropped, "\n");
  for (const auto& [id, s] : streams_) {
    absl::StrAppend(&out, "stream ", id, s->dead ? " dead" : "", " base=", s->send_base,
                    " next_new=", s->next_new, " write_end=", s->write_end(),
                    " retransmit=", s->retransmit.size(), " peer_max=", s->peer_max,
                    " fin=", s->fin_requested, s->fin_sent, s->fin_lost, s->fin_acked,
                    " read=", s->read_offset, " contig=", s->contiguous_end(),
                    " highest=", s->highest_received, " segments=", s->segments.size(),
                    " final=", s->final_size.value_or(0), " adv=", s->advertised_max, "\n");
  }
  return out;
}

std::optional<absl::Duration> StreamMux::smoothed_rtt() const {
  if (!has_rtt_) return std::nullopt;
  return srtt_;
}

void StreamMux::OnAck(MonoTime now, const AckChunk& ack) {
  uint64_t largest = ack.ranges.front().last;
  std::optional<absl::Duration> rtt_for_cc;
  bool newly_acked_any = false;
  for (const AckRange& r : ack.ranges) {
    for (auto it = sent_.lower_bound(r.first); it != sent_.end() && it->first <= r.last;) {
      const SentPacket& p = it->second;
      if (it->first == largest) {
        absl::Duration delay = absl::Microseconds(std::min<uint64_t>(ack.ack_delay_us, 1u << 30));
        AddRttSample(now - p.sent_time, delay);
        absl::Duration d = std::min(delay, config_.max_ack_delay);
        rtt_for_cc = now - p.sent_time - d > absl::ZeroDuration() ? now - p.sent_time - d
                                                                  : now - p.sent_time;
      }
      bytes_in_flight_ -= p.bytes;
      cc_.OnPacketAcked(now, p.bytes, p.sent_time, p.snapshot);
      OnPacketAcked(p);
      it = sent_.erase(it);
      newly_acked_any = true;
    }
  }
  if (!largest_acked_.has_value() || largest > *largest_acked_) largest_acked_ = largest;
  if (!newly_acked_any) return;
  pto_count_ = 0;
  if (sent_.empty()) idle_ = true;
  DetectLosses(now);
  cc_.EndAck(now, rtt_for_cc, bytes_in_flight_);
}

void StreamMux::OnPacketAcked(const SentPacket& p) {
  for (const SentChunk& c : p.chunks) {
    Stream* s = FindAny(c.id);
    if (s == nullptr || s->dead) continue;
    uint64_t end = c.offset + c.length;
    s->acked.Add(c.offset, end);
    s->retransmit.Remove(c.offset, end);
    if (c.fin) {
      s->fin_acked = true;
      s->fin_lost = false;
    }
    uint64_t new_base = s->acked.ContiguousEnd(s->send_base);
    if (new_base > s->send_base) {
      s->send_head += new_base - s->send_base;
      s->send_base = new_base;
      s->acked.Remove(0, new_base);
      if (s->send_head == s->send_buf.size()) {
        s->send_buf.clear();
        s->send_head = 0;
      }
      size_t limit = s->send_limit(config_);
      if (s->want_writable && Writable(s->id) >= std::max<size_t>(limit / 4, 1)) {
        s->want_writable = false;
        events_.push_back({EventKind::kWritable, s->id});
      }
    }
    MaybeFree(s);
  }
  for (const SentControl& c : p.controls) {
    if (c.type != ChunkType::kResetStream) continue;
    Stream* s = FindAny(c.id);
    if (s == nullptr || !s->dead) continue;
    s->reset_acked = true;
    MaybeFree(s);
  }
}

void StreamMux::OnPacketLost(const SentPacket& p) {
  ++stats_.packets_lost;
  bytes_in_flight_ -= p.bytes;
  for (const SentChunk& c : p.chunks) {
    Stream* s = Find(c.id);
    if (s == nullptr) continue;
    uint64_t start = std::max(c.offset, s->send_base);
    uint64_t end = c.offset + c.length;
    if (start < end) {
      s->retransmit.Add(start, end);
      for (const auto& [a, b] : s->acked.ranges()) {
        if (a >= end) break;
        s->retransmit.Remove(a, b);
      }
    }
    if (c.fin && !s->fin_acked) s->fin_lost = true;
  }
  for (const SentControl& c : p.controls) {
    switch (c.type) {
      case ChunkType::kMaxData:
        if (c.value == conn_advertised_) max_data_pending_ = controls_urgent_ = true;
        break;
      case ChunkType::kMaxStreams:
        if (c.value == incoming_limit_) max_streams_pending_ = controls_urgent_ = true;
        break;
      case ChunkType::kMaxStreamData:
        if (Stream* s = Find(c.id); s != nullptr && s->advertised_max == c.value) {
          s->max_pending = controls_urgent_ = true;
          control_streams_.insert(s->id);
        }
        break;
      case ChunkType::kResetStream:
        if (Stream* s = FindAny(c.id); s != nullptr && s->dead && !s->reset_acked) {
          s->reset_pending = controls_urgent_ = true;
          control_streams_.insert(s->id);
        }
        break;
      default:
        break;
    }
  }
}

void StreamMux::DetectLosses(MonoTime now) {
  loss_time_ = MonoTime::Infinite();
  if (!largest_acked_.has_value()) return;
  absl::Duration delay = std::max(std::max(srtt_, latest_rtt_) * 9 / 8, kGranularity);
  for (auto it = sent_.begin(); it != sent_.end() && it->first < *largest_acked_;) {
    if (it->first + kPacketThreshold <= *largest_acked_ || it->second.sent_time + delay <= now) {
      cc_.OnPacketLost(it->second.bytes);
      OnPacketLost(it->second);
      it = sent_.erase(it);
    } else {
      loss_time_ = std::min(loss_time_, it->second.sent_time + delay);
      ++it;
    }
  }
}

// --- Timers -----------------------------------------------------------------------

absl::Duration StreamMux::ProbeTimeout() const {
  absl::Duration pto = srtt_ + std::max(rttvar_ * 4, kGranularity) + config_.max_ack_delay;
  for (int i = 0; i < pto_count_ && pto < config_.max_probe_timeout; ++i) pto *= 2;
  return std::min(pto, config_.max_probe_timeout);
}

MonoTime StreamMux::ProbeDeadline() const {
  if (sent_.empty()) return MonoTime::Infinite();
  return last_eliciting_sent_ + ProbeTimeout();
}

bool StreamMux::WaitingForPeer() const { return !idle_; }

void StreamMux::CheckOutage(MonoTime now) {
  if (!WaitingForPeer() || now - waiting_since_ < config_.outage_limit) return;
  for (auto& [id, s] : streams_) {
    if (s->dead) continue;
    ++stats_.outage_resets;
    Kill(s.get(), kResetOutage, /*notify=*/true);
  }
  waiting_since_ = now;  // the RESETs get their own outage_limit
}

void StreamMux::DeclareAllLost() {
  for (const auto& [pn, p] : sent_) OnPacketLost(p);
  sent_.clear();
  bytes_in_flight_ = 0;
  loss_time_ = MonoTime::Infinite();
}

void StreamMux::OnProbeTimeout(MonoTime now) {
  ++stats_.probe_timeouts;
  ++pto_count_;
  if (pto_count_ >= 2) {
    if (pto_count_ == 2) {
      ++stats_.persistent_congestion;
      cc_.OnPersistentCongestion(now);
    }
    DeclareAllLost();
  } else if (!sent_.empty()) {
    auto oldest = sent_.begin();
    cc_.OnPacketLost(oldest->second.bytes);
    OnPacketLost(oldest->second);
    sent_.erase(oldest);
  }
  probe_pending_ = true;
  last_eliciting_sent_ = now;
}

void StreamMux::OnPathChange() {
  ++stats_.path_changes;
  MonoTime now = clock_->Now();
  cc_.Reset(now);
  has_rtt_ = false;
  srtt_ = absl::Milliseconds(300);
  rttvar_ = absl::Milliseconds(150);
  min_rtt_ = absl::InfiniteDuration();
  pto_count_ = 0;
  // Whatever went the old way is probably gone: send it again now.
  DeclareAllLost();
  Reschedule();
}

MonoTime StreamMux::NextWakeup() {
  MonoTime now = clock_->Now();
  MonoTime t = MonoTime::Infinite();
  if (ack_pending_) t = std::min(t, ack_deadline_);
  if (probe_pending_ || controls_urgent_) t = std::min(t, now);
  t = std::min(t, loss_time_ < MonoTime::Infinite() ? loss_time_ : ProbeDeadline());
  if (WaitingForPeer()) t = std::min(t, waiting_since_ + config_.outage_limit);
  if (bytes_in_flight_ + mss_ <= cc_.cwnd()) {
    for (const auto& [id, s] : streams_) {
      if (Sendable(*s)) {
        t = std::min(t, cc_.NextSendTime(now, mss_));
        break;
      }
    }
  }
  return t;
}

void StreamMux::Reschedule() {
  if (dispatching_) return;  // Dispatch() reschedules when it is done
  MonoTime t = NextWakeup();
  if (t == alarm_time_ && alarm_ != 0) return;
  if (alarm_ != 0) loop_->CancelAlarm(alarm_);
  alarm_ = 0;
  alarm_time_ = t;
  if (t.is_infinite()) return;
  alarm_ = loop_->ScheduleAlarm(t, [this] {
    alarm_ = 0;
    alarm_time_ = MonoTime::Infinite();
    Process();
  });
}

void StreamMux::Process() {
  MonoTime now = clock_->Now();
  CheckOutage(now);
  if (loss_time_ <= now) DetectLosses(now);
  if (loss_time_.is_infinite() && ProbeDeadline() <= now) OnProbeTimeout(now);
  SendPackets(now);
  Dispatch();
}

void StreamMux::Dispatch() {
  if (!dispatching_) {
    dispatching_ = true;
    while (!events_.empty()) {
      std::vector<Event> events;
      events.swap(events_);
      for (Event& e : events) {
        switch (e.kind) {
          case EventKind::kIncoming:
            if (on_incoming_ && Find(e.id) != nullptr) on_incoming_(e.id);
            break;
          case EventKind::kReadable:
            if (Stream* s = Find(e.id); s != nullptr && s->callbacks.on_readable) {
              auto f = s->callbacks.on_readable;
              f();
            } else if (s == nullptr && e.on_readable) {
              e.on_readable();
            }
            break;
          case EventKind::kWritable:
            if (Stream* s = Find(e.id); s != nullptr && s->callbacks.on_writable) {
              auto f = s->callbacks.on_writable;
              f();
            }
            break;
          case EventKind::kReset:
            if (e.on_reset) e.on_reset(e.code);
            break;
        }
      }
      // Callbacks may have written or read: send before the next batch.
      SendPackets(clock_->Now());
    }
    dispatching_ = false;
  }
  Reschedule();
}

// --- Sending ----------------------------------------------------------------------

uint64_t StreamMux::NewDataAllowance(const Stream& s) const {
  uint64_t limit = std::min(s.write_end(), s.peer_max);
  if (limit <= s.next_new) return 0;
  uint64_t conn = peer_max_data_ > sent_new_bytes_ ? peer_max_data_ - sent_new_bytes_ : 0;
  return std::min(limit - s.next_new, conn);
}

bool StreamMux::Sendable(const Stream& s) const {
  if (s.dead) return false;
  if (!s.retransmit.empty() || NewDataAllowance(s) > 0) return true;
  return s.fin_requested && !s.fin_acked && s.next_new == s.write_end() &&
         (!s.fin_sent || s.fin_lost);
}

StreamMux::Stream* StreamMux::PickStream() {
  int best = kMaxPriority + 1;
  for (const auto& [id, s] : streams_) {
    if (s->options.priority < best && Sendable(*s)) best = s->options.priority;
  }
  if (best > kMaxPriority) return nullptr;
  StreamId cursor = rr_cursor_.count(best) > 0 ? rr_cursor_[best] : 0;
  Stream* first = nullptr;
  for (const auto& [id, s] : streams_) {
    if (s->options.priority != best || !Sendable(*s)) continue;
    if (s->rr_credit > 0) return s.get();  // still in its turn
    if (first == nullptr) first = s.get();
    if (id > cursor) return s.get();
  }
  return first;
}

bool StreamMux::AppendStreamData(Stream* s, std::string* frame, size_t limit,
                                 SentPacket* record) {
  size_t room = limit - frame->size();
  uint64_t offset;
  uint64_t length;
  bool retransmission = false;
  if (auto r = s->retransmit.First(); r.has_value()) {
    offset = r->first;
    length = r->second - r->first;
    retransmission = true;
  } else {
    offset = s->next_new;
    length = NewDataAllowance(*s);
  }
  size_t header = StreamChunkHeaderSize(s->id, offset, std::min<uint64_t>(length, room));
  if (room <= header) return false;
  length = std::min<uint64_t>(length, room - header);
  if (length == 0 && !(s->fin_requested && offset == s->write_end())) return false;
  bool fin = s->fin_requested && offset + length == s->write_end();
  absl::string_view data(s->send_buf.data() + s->send_head + (offset - s->send_base), length);
  AppendStream(frame, s->id, offset, data, fin);
  record->chunks.push_back({s->id, offset, static_cast<uint32_t>(length), fin});
  if (retransmission) {
    s->retransmit.Remove(offset, offset + length);
    stats_.bytes_retransmitted += length;
  } else if (offset + length > s->next_new) {
    sent_new_bytes_ += offset + length - s->next_new;
    s->next_new = offset + length;
  }
  if (fin) {
    s->fin_sent = true;
    s->fin_lost = false;
  }
  return true;
}

void StreamMux::AppendControls(std::string* frame, size_t limit, SentPacket* record) {
  auto fits = [&](size_t n) { return frame->size() + n <= limit; };
  if (max_data_pending_ && fits(1 + 8)) {
    AppendMaxData(frame, conn_advertised_);
    record->controls.push_back({ChunkType::kMaxData, 0, conn_advertised_});
    max_data_pending_ = false;
  }
  if (max_streams_pending_ && fits(1 + 8)) {
    AppendMaxStreams(frame, incoming_limit_);
    record->controls.push_back({ChunkType::kMaxStreams, 0, incoming_limit_});
    max_streams_pending_ = false;
  }
  for (auto it = control_streams_.begin(); it != control_streams_.end();) {
    Stream* s = FindAny(*it);
    if (s == nullptr) {
      it = control_streams_.erase(it);
      continue;
    }
    if (s->reset_pending && fits(1 + 3 * 8)) {
      AppendResetStream(frame, s->id, s->reset_code, s->next_new);
      record->controls.push_back({ChunkType::kResetStream, s->id, s->reset_code});
      s->reset_pending = false;
    }
    if (s->max_pending && !s->dead && fits(1 + 2 * 8)) {
      AppendMaxStreamData(frame, s->id, s->advertised_max);
      record->controls.push_back({ChunkType::kMaxStreamData, s->id, s->advertised_max});
      s->max_pending = false;
    }
    if (s->reset_pending || (s->max_pending && !s->dead)) break;  // frame full
    it = control_streams_.erase(it);
    MaybeFree(s);
  }
  controls_urgent_ = max_data_pending_ || max_streams_pending_ || !control_streams_.empty();
}

AckChunk StreamMux::BuildAck(MonoTime now) const {
  AckChunk ack;
  ack.ack_delay_us = static_cast<uint64_t>(
      std::max<int64_t>(0, absl::ToInt64Microseconds(now - largest_received_time_)));
  const auto& ranges = received_.ranges();
  for (auto it = ranges.rbegin(); it != ranges.rend() && ack.ranges.size() < kMaxAckRangesSent;
       ++it) {
    ack.ranges.push_back({it->first, it->second - 1});
  }
  return ack;
}

bool StreamMux::BuildAndSend(MonoTime now, bool allow_data, bool probe) {
  size_t limit = std::max(channel_->max_frame_size(), kMinFrameSize);
  std::string frame;
  frame.reserve(limit);
  uint64_t pn = next_pn_;
  AppendVarint(&frame, pn);
  size_t header = frame.size();
  if (ack_pending_) {
    AckChunk ack = BuildAck(now);
    if (frame.size() + AckSize(ack) <= limit / 2) AppendAck(&frame, ack);
    ack_pending_ = false;
    eliciting_since_ack_ = 0;
    ack_deadline_ = MonoTime::Infinite();
  }
  size_t after_ack = frame.size();
  SentPacket record;
  AppendControls(&frame, limit, &record);
  if (allow_data) {
    while (Stream* s = PickStream()) {
      if (!AppendStreamData(s, &frame, limit, &record)) break;
      if (s->rr_credit <= 0) s->rr_credit = s->options.weight;
      if (--s->rr_credit <= 0) rr_cursor_[s->options.priority] = s->id;
      if (limit - frame.size() < 16) break;
    }
  }
  bool eliciting = frame.size() > after_ack;
  if (probe && !eliciting) {
    AppendPing(&frame);
    eliciting = true;
  }
  if (frame.size() == header) return false;
  ++next_pn_;
  ++stats_.frames_sent;
  if (!channel_->SendFrame(frame).ok()) ++stats_.send_errors;
  cc_.OnPacedSend(now, frame.size());
  if (!eliciting) {
    ++stats_.ack_only_frames_sent;
    return true;
  }
  if (idle_) {
    idle_ = false;
    waiting_since_ = now;
  }
  record.sent_time = now;
  record.bytes = frame.size();
  record.snapshot = cc_.OnPacketSent(now, frame.size(), bytes_in_flight_);
  bytes_in_flight_ += frame.size();
  last_eliciting_sent_ = now;
  sent_.emplace(pn, std::move(record));
  return true;
}

void StreamMux::SendPackets(MonoTime now) {
  for (int i = 0; i < kMaxPacketsPerTurn; ++i) {
    bool has_data = false;
    for (const auto& [id, s] : streams_) {
      if (Sendable(*s)) {
        has_data = true;
        break;
      }
    }
    bool window_open = bytes_in_flight_ + mss_ <= cc_.cwnd();
    bool data_ok = has_data && (probe_pending_ ||
                                (window_open && cc_.NextSendTime(now, mss_) <= now));
    bool ack_due = ack_pending_ && ack_deadline_ <= now;
    if (!has_data && window_open) cc_.OnAppLimited(bytes_in_flight_);
    if (!data_ok && !ack_due && !controls_urgent_ && !probe_pending_) break;
    bool probe = probe_pending_;
    probe_pending_ = false;
    if (!BuildAndSend(now, data_ok, probe)) break;
  }
}

}  // namespace moshx::net::stream
