// HistoryWriter: the history lines (issue 14, docs/protocol.md §7.6) on
// their way from the history stream into the local terminal's scrollback.
//
// The receiver adds records in the server's order; the terminal loop takes
// them as rows when it draws a frame that is not on the alternate screen
// (term::Renderer::Draw(frame, history) puts them above the screen). While
// the application shows its alternate screen (vim, less) they wait here, at
// most `max_lines` of them: beyond that the oldest are dropped and counted,
// and one marker row "[moshx: N lines not kept]" stands where they were, as
// for the server's gaps (consecutive gaps are merged).
//
// Not thread-safe; loop thread only.
#ifndef MOSHX_CMD_CLIENT_HISTORY_WRITER_H_
#define MOSHX_CMD_CLIENT_HISTORY_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/framebuffer.h"
#include "core/protocol/history.h"

namespace moshx::cmd {

class HistoryWriter {
 public:
  static constexpr size_t kDefaultMaxLines = 10000;

  explicit HistoryWriter(size_t max_lines = kDefaultMaxLines) : max_lines_(max_lines) {}

  void Add(protocol::HistoryRecord record);
  bool has_pending() const { return !entries_.empty(); }
  // Lines (and gap counts) waiting.
  size_t pending_lines() const { return lines_; }
  // Everything waiting, oldest first, as rows: a gap becomes the marker row
  // (plain text, as wide as its text).
  std::vector<core::Row> Take();
  // The same, at most `max_rows` rows (the oldest).
  std::vector<core::Row> Take(size_t max_rows);

  uint64_t lines_taken() const { return lines_taken_; }

 private:
  struct Entry {
    uint64_t gap = 0;  // > 0: a gap of this many lines; else `line`
    core::Row line{1};
  };
  const size_t max_lines_;
  std::deque<Entry> entries_;
  size_t lines_ = 0;  // line entries in entries_
  uint64_t lines_taken_ = 0;
};

// The marker row for a gap of `count` lines.
core::Row GapRow(uint64_t count);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CLIENT_HISTORY_WRITER_H_
