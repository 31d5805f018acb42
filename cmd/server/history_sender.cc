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
// count follows (little-endian, as the host stores it: the ring never
// leaves the process).
constexpr uint32_t kHasGap = 0x80000000u;

}  // namespace

void HistoryRing::Add(uint64_t gap_before, const std::string& record) {
  if (capacity_ == 0) return;
  if (size_ == capacity_) DropOldest();
  const uint32_t header = static_cast<uint32_t>(record.size()) | (gap_before > 0 ? kHasGap : 0);
  const size_t need = sizeof(header) + (gap_before > 0 ? sizeof(gap_before) : 0) + record.size();
  if (blocks_.empty() || blocks_.back().size() + need > kBlockBytes) {
    blocks_.emplace_back().reserve(std::max(kBlockBytes, need));
  }
  std::string& block = blocks_.back();
  block.append(reinterpret_cast<const char*>(&header), sizeof(header));
  if (gap_before > 0) block.append(reinterpret_cast<const char*>(&gap_before), sizeof(gap_before));
  block.append(record);
  ++size_;
  bytes_ += record.size();
}

size_t HistoryRing::ReadLine(const std::string& block, size_t offset, Line* line) {
  uint32_t header;
  memcpy(&header, block.data() + offset, sizeof(header));
  offset += sizeof(header);
  line->gap_before = 0;
  if (header & kHasGap) {
    memcpy(&line->gap_before, block.data() + offset, sizeof(line->gap_before));
    offset += sizeof(line->gap_before);
  }
  const size_t length = header & ~kHasGap;
  line->record.assign(block, offset, length);
  return offset + length;
}

void HistoryRing::DropOldest() {
  Line line;
  front_offset_ = ReadLine(blocks_.front(), front_offset_, &line);
  bytes_ -= line.record.size();
  --size_;
  if (front_offset_ == blocks_.front().size()) {
    blocks_.pop_front();
    front_offset_ = 0;
  }
}

std::vector<HistoryRing::Line> HistoryRing::Newest(size_t n) const {
  n = std::min(n, size_);
  std::vector<Line> out;
  out.reserve(n);
  size_t skip = size_ - n;
  size_t offset = front_offset_;
  for (const std::string& block : blocks_) {
    while (offset < block.size()) {
      Line line;
      offset = ReadLine(block, offset, &line);
      if (skip > 0) {
        --skip;
      } else {
        out.push_back(std::move(line));
      }
    }
    offset = 0;
  }
  if (!out.empty()) out.front().gap_before = 0;
  return out;
}

size_t HistoryRing::allocated_bytes() const {
  size_t total = 0;
  for (const std::string& block : blocks_) total += block.capacity();
  return total;
}

HistorySender::HistorySender(net::stream::StreamMux* mux, term::Emulator* emulator,
                             size_t max_lines, HistoryRing* ring, size_t replay_lines)
    : mux_(mux), emulator_(emulator), max_lines_(max_lines), ring_(ring) {
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
  for (HistoryRing::Line& line : ring_->Newest(std::min(replay_lines, max_lines_))) {
    queued_bytes_ += line.record.size();
    queue_.push_back(Entry{line.gap_before, std::move(line.record)});
  }
}

HistorySender::~HistorySender() {
  if (id_.has_value()) mux_->SetCallbacks(*id_, {}).IgnoreError();
  // The lines this association never took go to the ring (a re-attach
  // replays them), as if they had been queued.
  if (ring_ != nullptr && id_.has_value()) TakeFromEmulator(emulator_->pending_scrollback());
}

void HistorySender::TakeFromEmulator(size_t max) {
  gap_at_end_ += emulator_->TakeLinesNotKept();
  // A few rows at a time: a row of cells is large, the encoding small.
  constexpr size_t kRowsAtOnce = 16;
  while (max > 0 && emulator_->pending_scrollback() > 0) {
    const std::vector<core::Row> lines = emulator_->TakeScrollback(std::min(max, kRowsAtOnce));
    max -= lines.size();
    for (const core::Row& line : lines) {
      Entry e;
      e.gap_before = gap_at_end_;
      gap_at_end_ = 0;
      protocol::AppendHistoryLine(line, &e.record);
      if (ring_ != nullptr) ring_->Add(e.gap_before, e.record);
      queued_bytes_ += e.record.size();
      queue_.push_back(std::move(e));
    }
  }
  DropBeyondMax();
}

bool HistorySender::has_more() const {
  return id_.has_value() && out_.empty() &&
         (!queue_.empty() || gap_at_end_ > 0 || emulator_->pending_scrollback() > 0) &&
         mux_->Writable(*id_) > 0;
}

void HistorySender::DropBeyondMax() {
  // Only the newest max_lines_ stay, counting those the emulator still
  // holds; what leaves the front joins the gap before the new front.
  while (!queue_.empty() && queue_.size() + emulator_->pending_scrollback() > max_lines_) {
    const uint64_t gone = queue_.front().gap_before + 1;
    queued_bytes_ -= queue_.front().record.size();
    queue_.pop_front();
    if (queue_.empty()) {
      gap_at_end_ += gone;
    } else {
      queue_.front().gap_before += gone;
    }
  }
}

void HistorySender::Pump() {
  if (pumping_) return;
  pumping_ = true;
  if (id_.has_value()) {
    // Lines the emulator holds as rows of cells are large: past a few
    // hundred, everything it holds is encoded into the queue (as small as
    // text) at once.
    if (emulator_->pending_scrollback_rows() > kMaxRowsWaiting) {
      TakeFromEmulator(emulator_->pending_scrollback());
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
    // Lines leave the emulator only when the stream has room for them: a
    // backlog waits there, where dropping the oldest costs nothing (no
    // encoding; the emulator may not even have laid them out).
    if (queue_.empty()) TakeFromEmulator(kBatchLines);
    if (queue_.empty() && gap_at_end_ == 0) break;
    records_.clear();
    for (size_t n = 0; n < kBatchLines && !queue_.empty(); ++n) {
      Entry& e = queue_.front();
      protocol::AppendHistoryGap(e.gap_before, &records_);
      stats_.lines_not_kept += e.gap_before;
      records_.append(e.record);
      queued_bytes_ -= e.record.size();
      ++stats_.lines_sent;
      queue_.pop_front();
    }
    if (queue_.empty() && gap_at_end_ > 0) {
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
  pumping_ = false;
}

}  // namespace moshx::cmd
