// HistoryReceiver: the client's end of the history stream (issue 14,
// docs/protocol.md §7.6): reads the stream, decompresses it and hands the
// records (lines and gaps) to a sink, each once and in the server's order.
//
// Memory and latency: it reads at most kReadChunk compressed bytes at a time
// and decompresses at most kDrainChunk bytes per step, handing out the
// records of each step before the next, so a hostile server's decompression
// bomb costs no more than that, and one step (a few hundred short lines laid
// out as rows of cells) keeps the loop from the user's keys for well under a
// millisecond (docs/protocol.md §7.6). Corrupt data or a malformed record ends the
// reading for good (failed()); the stream is then reset.
//
// Ownership: `mux` must outlive this object; destroy it before the mux.
// Loop thread only.
#ifndef MOSHX_CMD_CLIENT_HISTORY_RECEIVER_H_
#define MOSHX_CMD_CLIENT_HISTORY_RECEIVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/protocol/history.h"
#include "net/stream/stream_mux.h"
#include "net/stream/zstd_stream.h"

namespace moshx::cmd {

class HistoryReceiver {
 public:
  using Sink = std::function<void(protocol::HistoryRecord record)>;
  static constexpr size_t kReadChunk = 16 * 1024;
  static constexpr size_t kDrainChunk = 4 * 1024;
  // The reset code sent when the stream carried something undecodable.
  static constexpr uint64_t kResetMalformed = 0x141;

  HistoryReceiver(net::stream::StreamMux* mux, Sink sink);
  ~HistoryReceiver();
  HistoryReceiver(const HistoryReceiver&) = delete;
  HistoryReceiver& operator=(const HistoryReceiver&) = delete;

  // The server opened the history stream `id` (protocol::kHistoryStreamId):
  // call from the mux's incoming handler. A second call is ignored.
  void Attach(net::stream::StreamId id);

  // Backpressure: while `wants_more` returns false nothing more is read
  // (the server's queue fills and drops its oldest lines instead); call
  // Resume() once it would return true again.
  void set_wants_more(std::function<bool()> wants_more) { wants_more_ = std::move(wants_more); }
  void Resume() { OnReadable(); }

  bool attached() const { return id_.has_value() || done_; }
  // The server finished the stream and every record was handed out.
  bool done() const { return done_; }
  const absl::Status& status() const { return status_; }
  uint64_t lines() const { return lines_; }
  uint64_t lines_not_kept() const { return lines_not_kept_; }

 private:
  void OnReadable();
  void Fail(absl::Status status);

  net::stream::StreamMux* const mux_;
  Sink sink_;
  std::function<bool()> wants_more_;
  std::optional<net::stream::StreamId> id_;
  net::stream::StreamDecompressor decompressor_;
  protocol::HistoryDecoder decoder_;
  std::string plain_;
  std::vector<protocol::HistoryRecord> records_;
  absl::Status status_;
  bool done_ = false;
  bool reading_ = false;
  uint64_t lines_ = 0;
  uint64_t lines_not_kept_ = 0;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CLIENT_HISTORY_RECEIVER_H_
