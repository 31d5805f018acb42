#include "cmd/server/history_sender.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "core/protocol/history.h"

namespace moshx::cmd {

namespace {

// A line's header: the record's length, its top bit set when a 64-bit gap
// count follows (host byte order: the queue never leaves the process).
constexpr uint32_t kHasGap = 0x80000000u;

}  // namespace

void LineQueue::PushBack(uint64_t gap_before, absl::string_view record) {
  const uint32_t header = static_cast<uint32_t>(record.size()) | (gap_before > 0 ? kHasGap : 0);
  const size_t need = sizeof(header) + (gap_before > 0 ? sizeof(gap_before) : 0) + record.size();
  if (blocks_.empty() || blocks_.back().size() + need > kBlockBytes) {
    blocks_.emplace_back().reserve(std::max(kBlockBytes, need));
  }
  std::string& block = blocks_.back();
  block.append(reinterpret_cast<const char*>(&header), sizeof(header));
  if (gap_before > 0) block.append(reinterpret_cast<const char*>(&gap_before), sizeof(gap_before));
  block.append(record.data(), record.size());
  ++size_;
  bytes_ += record.size();
}

size_t LineQueue::ReadLine(const std::string& block, size_t offset, uint64_t* gap,
                           std::string* record, size_t* length) {
  uint32_t header;
  memcpy(&header, block.data() + offset, sizeof(header));
  offset += sizeof(header);
  *gap = 0;
  if (header & kHasGap) {
    memcpy(gap, block.data() + offset, sizeof(*gap));
    offset += sizeof(*gap);
  }
  *length = header & ~kHasGap;
  if (record != nullptr) record->append(block, offset, *length);
  return offset + *length;
}

uint64_t LineQueue::front_gap() const {
  uint64_t gap;
  size_t length;
  ReadLine(blocks_.front(), front_offset_, &gap, nullptr, &length);
  return gap + front_gap_extra_;
}

void LineQueue::AddToFrontGap(uint64_t lines) { front_gap_extra_ += lines; }

uint64_t LineQueue::PopFront(std::string* record) {
  uint64_t gap;
  size_t length;
  front_offset_ = ReadLine(blocks_.front(), front_offset_, &gap, record, &length);
  gap += front_gap_extra_;
  front_gap_extra_ = 0;
  bytes_ -= length;
  --size_;
  if (front_offset_ == blocks_.front().size()) {
    blocks_.pop_front();
    front_offset_ = 0;
  }
  return gap;
}

std::vector<LineQueue::Line> LineQueue::Newest(size_t n) const {
  n = std::min(n, size_);
  std::vector<Line> out;
  out.reserve(n);
  size_t skip = size_ - n;
  size_t offset = front_offset_;
  bool front = true;
  for (const std::string& block : blocks_) {
    while (offset < block.size()) {
      uint64_t gap;
      size_t length;
      if (skip > 0) {
        offset = ReadLine(block, offset, &gap, nullptr, &length);
        --skip;
      } else {
        Line& line = out.emplace_back();
        offset = ReadLine(block, offset, &line.gap_before, &line.record, &length);
        if (front) line.gap_before += front_gap_extra_;
      }
      front = false;
    }
    offset = 0;
  }
  return out;
}

size_t LineQueue::allocated_bytes() const {
  size_t total = 0;
  for (const std::string& block : blocks_) total += block.capacity();
  return total;
}

void HistoryRing::Add(uint64_t gap_before, absl::string_view record) {
  if (capacity_ == 0) return;
  if (lines_.size() == capacity_) (void)lines_.PopFront(nullptr);  // the oldest goes
  lines_.PushBack(gap_before, record);
}

std::vector<HistoryRing::Line> HistoryRing::Newest(size_t n) const {
  std::vector<Line> out = lines_.Newest(n);
  if (!out.empty()) out.front().gap_before = 0;
  return out;
}

HistorySender::HistorySender(net::stream::StreamMux* mux, term::Emulator* emulator,
                             net::EventLoop* loop, const net::Clock* clock, size_t max_lines,
                             HistoryRing* ring, size_t replay_lines)
    : mux_(mux),
      emulator_(emulator),
      loop_(loop),
      clock_(clock),
      max_lines_(max_lines),
      ring_(ring) {
  // With scrollback off no stream is opened (that would cost a frame), but
  // its id is taken: id 1 is the history's, never a forwarded stream's.
  if (max_lines_ == 0) {
    (void)mux_->ReserveLocalId();  // the association's first: protocol::kHistoryStreamId
    return;
  }
  net::stream::StreamOptions options;
  options.priority = net::stream::kPriorityHistory;
  options.send_buffer = kSendBuffer;
  net::stream::StreamMux::StreamCallbacks callbacks;
  callbacks.on_writable = [this] { Pump(); };
  callbacks.on_reset = [this](uint64_t) { id_.reset(); };
  absl::StatusOr<net::stream::StreamId> id = mux_->Open(options, std::move(callbacks));
  if (!id.ok()) return;
  id_ = *id;
  if (ring_ == nullptr || replay_lines == 0) return;
  // Lines still in the emulator are newer than the ring's: they follow at
  // the next Pump(). The replay counts against max_lines like live lines.
  for (const HistoryRing::Line& line : ring_->Newest(std::min(replay_lines, max_lines_))) {
    queue_.PushBack(line.gap_before, line.record);
  }
  if (!queue_.empty()) runs_.push_back(Run{true, 0, queue_.size()});
}

HistorySender::~HistorySender() {
  if (alarm_ != 0) loop_->CancelAlarm(alarm_);
  if (id_.has_value()) mux_->SetCallbacks(*id_, {}).IgnoreError();
  // The lines this association never took go to the ring (a re-attach
  // replays them), as if they had been queued.
  if (ring_ != nullptr && id_.has_value()) {
    TakeFromEmulator(emulator_->pending_scrollback(), /*released_only=*/false);
  }
}

void HistorySender::CountLinesNotKept() {
  const uint64_t not_kept = emulator_->TakeLinesNotKept();
  gap_at_end_ += not_kept;  // after every queued line, before the emulator's
  consumed_ += not_kept;
}

void HistorySender::Advance(net::MonoTime now) {
  CountLinesNotKept();
  const uint64_t arrived = consumed_ + emulator_->pending_scrollback();
  const uint64_t last = marks_.empty() ? released_ : marks_.back().arrived;
  if (arrived > last) {
    // Arrivals within an eighth of the hold share a mark (released that
    // much early at most): a handful of marks, however many Pumps.
    if (!marks_.empty() && marks_.back().time > now - kHoldTime / 8) {
      marks_.back().arrived = arrived;
    } else {
      marks_.push_back(Mark{now, arrived});
    }
  }
  while (!marks_.empty() && marks_.front().time <= now - kHoldTime) {
    released_ = std::max(released_, marks_.front().arrived);
    marks_.pop_front();
  }
}

size_t HistorySender::ReleasedInEmulator() const {
  if (released_ <= consumed_) return 0;
  return static_cast<size_t>(
      std::min<uint64_t>(released_ - consumed_, emulator_->pending_scrollback()));
}

bool HistorySender::QueueFrontReleased() const {
  return !runs_.empty() && (runs_.front().replay || runs_.front().first < released_);
}

uint64_t HistorySender::PopQueueFront(std::string* record) {
  Run& run = runs_.front();
  ++run.first;
  if (--run.count == 0) runs_.pop_front();
  return queue_.PopFront(record);
}

uint64_t HistorySender::held_lines() const {
  uint64_t held = 0;
  // Live runs are numbered in order: the held ones are at the back.
  for (auto run = runs_.rbegin(); run != runs_.rend() && !run->replay; ++run) {
    const uint64_t end = run->first + run->count;
    if (end <= released_) break;
    held += std::min(run->count, end - released_);
  }
  return held + emulator_->pending_scrollback() - ReleasedInEmulator();
}

void HistorySender::ScheduleRelease() {
  // The oldest mark's hold ends first; nothing to wake for without marks
  // (every line scrolled off is released) or without a stream.
  const bool want = id_.has_value() && !marks_.empty();
  const net::MonoTime when = want ? marks_.front().time + kHoldTime : net::MonoTime();
  if (alarm_ != 0 && (!want || alarm_time_ != when)) {
    loop_->CancelAlarm(alarm_);
    alarm_ = 0;
  }
  if (want && alarm_ == 0) {
    alarm_time_ = when;
    alarm_ = loop_->ScheduleAlarm(when, [this] {
      alarm_ = 0;
      Pump();
    });
  }
}

void HistorySender::TakeFromEmulator(size_t max, bool released_only) {
  CountLinesNotKept();
  if (released_only) max = std::min(max, ReleasedInEmulator());
  // One line at a time: a plain flood's lines are encoded from their text
  // (protocol::PlainLineEncoder), the others from their rows.
  emulator_->TakeScrollback(max, [this](core::Row* row, const core::PlainRow* plain) {
    record_.clear();
    if (plain != nullptr) {
      plain_encoder_.Append(*plain, &record_);
    } else {
      protocol::AppendHistoryLine(*row, &record_);
    }
    if (ring_ != nullptr) ring_->Add(gap_at_end_, record_);
    queue_.PushBack(gap_at_end_, record_);
    gap_at_end_ = 0;
    const uint64_t number = consumed_++;
    if (!runs_.empty() && !runs_.back().replay &&
        runs_.back().first + runs_.back().count == number) {
      ++runs_.back().count;
    } else {
      runs_.push_back(Run{false, number, 1});
    }
  });
  DropBeyondMax();
}

bool HistorySender::has_more() const {
  if (!id_.has_value() || !out_.empty() || mux_->Writable(*id_) == 0) return false;
  // Lines no Pump() has seen yet: their hold starts at the next one.
  const uint64_t seen = marks_.empty() ? released_ : marks_.back().arrived;
  if (consumed_ + emulator_->pending_scrollback() > seen) return true;
  return QueueFrontReleased() || (queue_.empty() && ReleasedInEmulator() > 0);
}

bool HistorySender::drained() const {
  if (!id_.has_value()) return true;
  return out_.empty() && queue_.empty() && emulator_->pending_scrollback() == 0 &&
         gap_at_end_ == 0 && mux_->BytesAcked(*id_) == stats_.wire_bytes;
}

void HistorySender::ReleaseIdleBuffers() {
  if (!drained()) return;
  std::string().swap(out_);
  std::string().swap(records_);
  mux_->ReleaseIdleBuffers();
}

void HistorySender::DropBeyondMax() {
  // Only the newest max_lines_ stay, counting those the emulator still
  // holds; what leaves the front joins the gap before the new front.
  while (!queue_.empty() && queue_.size() + emulator_->pending_scrollback() > max_lines_) {
    const uint64_t gone = PopQueueFront(nullptr) + 1;
    if (queue_.empty()) {
      gap_at_end_ += gone;
    } else {
      queue_.AddToFrontGap(gone);
    }
  }
}

void HistorySender::Pump() {
  if (pumping_) return;
  pumping_ = true;
  if (id_.has_value()) {
    Advance(clock_->Now());
    // Lines the emulator holds as rows of cells are large: past a few
    // hundred, everything it holds is encoded into the queue (as small as
    // text) at once, held or not.
    if (emulator_->pending_scrollback_rows() > kMaxRowsWaiting) {
      TakeFromEmulator(emulator_->pending_scrollback(), /*released_only=*/false);
    }
    DropBeyondMax();  // replayed lines give way to newer ones
  } else {
    // Nobody to send to: the emulator's lines are dropped as they come.
    (void)emulator_->TakeScrollback();
    (void)emulator_->TakeLinesNotKept();
  }
  // A few batches per call at most: encoding a backlog (up to max_lines)
  // at once would keep the loop from the user's keys for tens of ms; the
  // caller calls again while has_more().
  size_t batches = 0;
  while (id_.has_value()) {
    if (!out_.empty()) {
      const size_t n = mux_->Write(*id_, out_);
      stats_.wire_bytes += n;
      out_.erase(0, n);
      if (!out_.empty()) break;  // on_writable brings us back
    }
    if (batches == kBatchesPerPump || mux_->Writable(*id_) == 0) break;
    // Lines leave the emulator only when the stream has room for them and
    // their hold ended: a backlog waits there, where dropping the oldest
    // costs nothing (no encoding; the emulator may not even have laid them
    // out).
    if (queue_.empty()) TakeFromEmulator(kBatchLines, /*released_only=*/true);
    // A gap goes out with the line after it; alone only when nothing
    // follows it (every line the emulator kept was taken).
    const bool gap_alone =
        queue_.empty() && gap_at_end_ > 0 && emulator_->pending_scrollback() == 0;
    if (!QueueFrontReleased() && !gap_alone) break;
    records_.clear();
    for (size_t n = 0; n < kBatchLines && QueueFrontReleased(); ++n) {
      const uint64_t gap = queue_.front_gap();
      protocol::AppendHistoryGap(gap, &records_);
      stats_.lines_not_kept += gap;
      (void)PopQueueFront(&records_);
      ++stats_.lines_sent;
    }
    if (queue_.empty() && gap_at_end_ > 0 && emulator_->pending_scrollback() == 0) {
      protocol::AppendHistoryGap(gap_at_end_, &records_);
      stats_.lines_not_kept += gap_at_end_;
      gap_at_end_ = 0;
    }
    ++batches;
    stats_.record_bytes += records_.size();
    if (!compressor_.CompressAndFlush(records_, &out_).ok()) {
      // zstd failed (out of memory): the stream cannot go on.
      mux_->Reset(*id_, kHistoryResetCompression);
      id_.reset();
    }
  }
  ScheduleRelease();
  pumping_ = false;
}

}  // namespace moshx::cmd
