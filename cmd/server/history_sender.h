// HistorySender: the server's end of the history stream (issue 14,
// docs/protocol.md §7.6): the lines the emulator keeps as they scroll off
// go to the client, each once and in order, compressed, on a stream of the
// association's multiplexer at kPriorityHistory.
//
// Flow: the emulator keeps the scrolled-off lines (at most its
// Options::scrollback_lines, which should be `max_lines`); they leave it
// when the stream has room, kBatchLines at a time, encoded (about 1-2 bytes
// per cell of text instead of a core::Row's ~64) and compressed as one
// batch, or when more than kMaxRowsWaiting of them are rows of cells (then
// all are encoded into a queue, bounded the same way). So when a plain-text
// flood scrolls lines off faster than the link carries them, the backlog
// waits in the emulator as text, where dropping the oldest costs nothing
// (term/emulator.h), and only the newest `max_lines` are kept; the lines
// dropped go as one gap record ("N lines not kept") exactly where they
// were. At most one compressed batch waits here beyond the stream's own
// send buffer (kSendBuffer).
//
// Hold: a line leaves at least kHoldTime after it scrolled off (counted from
// the first Pump() that saw it), even when the stream has room. Output that
// scrolls off fewer than `max_lines` lines per kHoldTime (anything a person
// reads, a build log, a slow `cat`) loses nothing and arrives kHoldTime
// late, above a screen that is already current. A flood faster than that
// (`seq 1 3000000`, `cat` of a large file) keeps only its newest
// `max_lines` lines after one gap record on every link, as a terminal with
// that much scrollback would: the lines in between are dropped as text in
// the emulator, never laid out, encoded or sent (docs/protocol.md §7.6,
// docs/benchmarks.md). Without the hold a fast link carried every line of a
// flood: 1.15 MB and 2.5 s of server CPU for `seq 1 3000000`.
//
// The stream: the first one the server opens in the association (id
// protocol::kHistoryStreamId), opened by the constructor, so the client tells it from
// forwarded streams by its id. With scrollback off no stream is opened
// but id 1 is still taken (StreamMux::ReserveLocalId: nothing sent), so a
// forwarded stream the server opens (-R, -A) is never taken for history.
// Server-opened forwarded streams must not start before this object is
// made. If the peer resets it, nothing more is sent.
//
// Re-attach (`moshx connect --history N`, docs/protocol.md §7.6): every
// line taken from the emulator is also kept, encoded, in the session's
// HistoryRing, which outlives the senders. The sender of a new association
// starts with the ring's newest `replay_lines` lines (the lines the old
// sender had queued but not sent are among them), then goes on with live
// lines: each line once, in order, on the new stream.
//
// Ownership: `mux`, `emulator`, `loop`, `clock` and `ring` (if given) must
// outlive this object; destroy it before the mux (it clears its stream
// callbacks). It keeps at most one alarm on `loop` (the next release of held
// lines; cancelled by the destructor). Loop thread only.
#ifndef MOSHX_CMD_SERVER_HISTORY_SENDER_H_
#define MOSHX_CMD_SERVER_HISTORY_SENDER_H_

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/protocol/history.h"
#include "net/clock.h"
#include "net/event_loop.h"
#include "net/stream/stream_mux.h"
#include "net/stream/zstd_stream.h"
#include "term/emulator.h"

namespace moshx::cmd {

// The reset code of a history stream whose compressor failed.
inline constexpr uint64_t kHistoryResetCompression = 0x140;

// Encoded history lines in arrival order, each with the count of lines not
// kept right before it, stored back to back in blocks of kBlockBytes (4
// bytes of header a line, 12 with a gap) rather than as a string per line,
// which cost 40-50 bytes more a line (docs/benchmarks.md, "Server memory
// after a flood"). Value type; thread-compatible.
class LineQueue {
 public:
  // Lines are appended to a block until the next would not fit.
  static constexpr size_t kBlockBytes = 16 * 1024;

  struct Line {
    uint64_t gap_before = 0;
    std::string record;  // protocol::AppendHistoryLine's encoding
  };

  void PushBack(uint64_t gap_before, absl::string_view record);
  // The oldest line's gap. Precondition: !empty().
  uint64_t front_gap() const;
  // Adds `lines` to the oldest line's gap. Precondition: !empty().
  void AddToFrontGap(uint64_t lines);
  // Removes the oldest line, appending its record to *record (if not
  // null); returns its gap. Precondition: !empty().
  uint64_t PopFront(std::string* record);
  // The newest min(n, size()) lines, oldest first.
  std::vector<Line> Newest(size_t n) const;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Bytes of the records held (headers and block slack not counted).
  size_t bytes() const { return bytes_; }
  // Bytes the blocks hold allocated.
  size_t allocated_bytes() const;

 private:
  // Decodes the line at `offset` of `block` (its record only if `record` is
  // not null, appended); returns the next line's offset.
  static size_t ReadLine(const std::string& block, size_t offset, uint64_t* gap,
                         std::string* record, size_t* length);

  std::deque<std::string> blocks_;
  size_t front_offset_ = 0;     // the oldest line's place in blocks_.front()
  uint64_t front_gap_extra_ = 0;  // AddToFrontGap's lines
  size_t size_ = 0;
  size_t bytes_ = 0;
};

// The newest encoded history lines of a session, at most `capacity`, with
// the count of lines not kept right before each (gaps inside the ring).
// Value type; thread-compatible.
class HistoryRing {
 public:
  // The most a re-attaching client may ask for (`--history`), and so the
  // most a ring holds: about 80 bytes per 80-column line.
  static constexpr size_t kMaxLines = 10000;

  using Line = LineQueue::Line;

  explicit HistoryRing(size_t capacity) : capacity_(std::min(capacity, kMaxLines)) {}

  void Add(uint64_t gap_before, absl::string_view record);
  // The newest min(n, size()) lines, oldest first; the first one's gap is 0
  // (what came before the replay is not the new client's business).
  std::vector<Line> Newest(size_t n) const;
  size_t size() const { return lines_.size(); }
  // Bytes of the records kept.
  size_t bytes() const { return lines_.bytes(); }
  size_t allocated_bytes() const { return lines_.allocated_bytes(); }

 private:
  size_t capacity_;
  LineQueue lines_;
};

class HistorySender {
 public:
  // Unsent plus unacknowledged bytes the stream may hold: enough for
  // 300 KB/s at 200 ms, small enough that a backlog waits as lines in the
  // emulator, where the oldest can still be dropped.
  static constexpr size_t kSendBuffer = 64 * 1024;
  // Lines taken from the emulator per compressed batch, at most.
  static constexpr size_t kBatchLines = 256;
  // Batches per Pump() call, at most: a few ms of encoding.
  static constexpr size_t kBatchesPerPump = 8;
  // Lines the emulator may hold as rows of cells (about 5 KB each at 80
  // columns) while the stream has no room; beyond, they are encoded into
  // the queue (Emulator::pending_scrollback_rows).
  static constexpr size_t kMaxRowsWaiting = 256;
  // How long a line waits after it scrolled off before it may be sent (see
  // "Hold" above): long enough that a flood at pty speed (millions of lines
  // a second) keeps only its newest max_lines, short enough not to be seen
  // (history lands above a screen that is already current). A flood is
  // output of more than max_lines per kHoldTime (50,000 lines a second at
  // the default 10000).
  static constexpr absl::Duration kHoldTime = absl::Milliseconds(200);

  struct Stats {
    uint64_t lines_sent = 0;      // line records written
    uint64_t lines_not_kept = 0;  // lines the gap records stand for
    uint64_t record_bytes = 0;    // before compression
    uint64_t wire_bytes = 0;      // compressed, written to the stream
  };

  // `max_lines` 0 (scrollback off): no stream is opened. The
  // emulator should keep at least as many lines (Options::scrollback_lines).
  // `ring` (may be null): keeps every line taken; the newest `replay_lines`
  // of it are queued first (a re-attach).
  // Replayed lines are not held (they are old).
  HistorySender(net::stream::StreamMux* mux, term::Emulator* emulator, net::EventLoop* loop,
                const net::Clock* clock, size_t max_lines, HistoryRing* ring = nullptr,
                size_t replay_lines = 0);
  ~HistorySender();
  HistorySender(const HistorySender&) = delete;
  HistorySender& operator=(const HistorySender&) = delete;

  // Moves lines the stream has room for into it, at most kBatchesPerPump
  // compressed batches (of at most kBatchLines lines) per call; encodes the
  // emulator's lines if too many wait as rows. Call once per turn of the
  // loop, after its events (ServerSession::Service: keys reach the pty
  // first), and turn again at once while has_more(); it also runs when the
  // stream has room again.
  void Pump();
  // True while lines that may leave (past their hold) wait and the stream
  // has room for them: Pump() again soon (after the loop's other events: a
  // backlog goes out a few batches per turn). Held lines are not counted:
  // the alarm pumps when their hold ends.
  bool has_more() const;
  // Lines scrolled off and not yet sent or dropped that are still within
  // kHoldTime (as of the last Pump()).
  uint64_t held_lines() const;

  // Lines queued (encoded, not yet compressed) and their bytes.
  size_t queued_lines() const { return queue_.size(); }
  size_t queued_bytes() const { return queue_.bytes(); }

  // True when nothing waits to be sent and the peer acknowledged every
  // byte written: no line in the emulator, the queue or a compressed batch,
  // nothing held, none of the stream's bytes in flight. Also true once
  // stopped().
  bool drained() const;
  // Gives back the batch buffers' memory and the stream's idle buffers
  // (StreamMux::ReleaseIdleBuffers) once drained(); no-op otherwise. The
  // next batch allocates them again.
  void ReleaseIdleBuffers();

  // True once the stream is gone (reset by the peer) or could not be opened.
  bool stopped() const { return !id_.has_value(); }
  const Stats& stats() const { return stats_; }

 private:
  // Lines that scrolled off are numbered from 0 in order (the gap's lines
  // too); `arrived` lines had scrolled off by `time`.
  struct Mark {
    net::MonoTime time;
    uint64_t arrived;
  };
  // Consecutive live lines in queue_ (numbers first..first+count-1), or
  // replayed lines (never held).
  struct Run {
    bool replay;
    uint64_t first;
    uint64_t count;
  };

  net::stream::StreamMux* const mux_;
  term::Emulator* const emulator_;
  net::EventLoop* const loop_;
  const net::Clock* const clock_;
  // Adds the lines the emulator dropped since the last call to the gap
  // after the queue and to consumed_.
  void CountLinesNotKept();
  // Counts the lines the emulator dropped, notes when new lines arrived and
  // which lines' hold ended by `now`.
  void Advance(net::MonoTime now);
  // Lines in the emulator whose hold ended.
  size_t ReleasedInEmulator() const;
  bool QueueFrontReleased() const;
  // queue_.PopFront() and its run.
  uint64_t PopQueueFront(std::string* record);
  // Keeps one alarm at the end of the oldest held lines' hold.
  void ScheduleRelease();
  // Moves at most `max` of the emulator's lines (the oldest) into the
  // queue; with `released_only`, only lines whose hold ended.
  void TakeFromEmulator(size_t max, bool released_only);
  // Drops queued lines from the front while the queue and the emulator
  // together hold more than max_lines_.
  void DropBeyondMax();

  const size_t max_lines_;
  HistoryRing* const ring_;
  std::optional<net::stream::StreamId> id_;
  LineQueue queue_;
  std::deque<Run> runs_;      // queue_'s lines, front first
  uint64_t consumed_ = 0;     // lines that left the emulator (taken or not kept)
  uint64_t released_ = 0;     // lines numbered below this are past their hold
  std::deque<Mark> marks_;    // arrivals not yet released, oldest first (a few)
  net::EventLoop::AlarmId alarm_ = 0;
  net::MonoTime alarm_time_;
  std::string record_;  // TakeFromEmulator's scratch
  protocol::PlainLineEncoder plain_encoder_;
  uint64_t gap_at_end_ = 0;  // lines not kept after the last queued line
  net::stream::StreamCompressor compressor_;
  std::string out_;  // compressed bytes the stream has not taken yet
  std::string records_;
  bool pumping_ = false;
  Stats stats_;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_HISTORY_SENDER_H_
