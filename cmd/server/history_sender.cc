#include "cmd/server/history_sender.h"

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "core/protocol/history.h"

namespace moshx::cmd {

void HistoryRing::Add(uint64_t gap_before, const std::string& record) {
  if (capacity_ == 0) return;
  if (lines_.size() == capacity_) {
    bytes_ -= lines_.front().record.size();
    lines_.pop_front();
  }
  lines_.push_back(Line{gap_before, record});
  bytes_ += record.size();
}

std::vector<HistoryRing::Line> HistoryRing::Newest(size_t n) const {
  n = std::min(n, lines_.size());
  std::vector<Line> out(lines_.end() - static_cast<std::ptrdiff_t>(n), lines_.end());
  if (!out.empty()) out.front().gap_before = 0;
  return out;
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
