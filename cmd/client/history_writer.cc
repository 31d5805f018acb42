#include "cmd/client/history_writer.h"

#include <algorithm>
#include <string>
#include <utility>

namespace moshx::cmd {

core::Row GapRow(uint64_t count) {
  const std::string text = protocol::HistoryGapText(count);
  core::Row row(static_cast<int>(text.size()));
  for (size_t i = 0; i < text.size(); ++i) {
    core::Cell c;
    c.text = text.substr(i, 1);
    row.Set(static_cast<int>(i), std::move(c));
  }
  return row;
}

void HistoryWriter::Add(protocol::HistoryRecord record) {
  if (!record.line.has_value()) {
    if (record.lines_not_kept == 0) return;
    if (!entries_.empty() && entries_.back().gap > 0) {
      entries_.back().gap += record.lines_not_kept;
    } else {
      Entry e;
      e.gap = record.lines_not_kept;
      entries_.push_back(std::move(e));
    }
    return;
  }
  Entry e;
  e.line = std::move(*record.line);
  entries_.push_back(std::move(e));
  ++lines_;
  // Only the newest max_lines_ lines wait; the oldest become a gap at the front.
  while (lines_ > max_lines_) {
    // The leading gap (if any), the oldest line and any gap after it merge.
    uint64_t dropped = 0;
    while (entries_.front().gap > 0) {
      dropped += entries_.front().gap;
      entries_.pop_front();
    }
    entries_.pop_front();
    --lines_;
    ++dropped;
    while (!entries_.empty() && entries_.front().gap > 0) {
      dropped += entries_.front().gap;
      entries_.pop_front();
    }
    Entry gap;
    gap.gap = dropped;
    entries_.push_front(std::move(gap));
  }
}

std::vector<core::Row> HistoryWriter::Take() { return Take(entries_.size()); }

std::vector<core::Row> HistoryWriter::Take(size_t max_rows) {
  std::vector<core::Row> rows;
  const size_t n = std::min(max_rows, entries_.size());
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Entry& e = entries_.front();
    if (e.gap > 0) {
      rows.push_back(GapRow(e.gap));
    } else {
      rows.push_back(std::move(e.line));
      ++lines_taken_;
      --lines_;
    }
    entries_.pop_front();
  }
  return rows;
}

}  // namespace moshx::cmd
