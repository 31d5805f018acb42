// Compression of one long-lived byte stream as a whole (the scrollback
// history of issue 14 travels this way over a StreamMux stream, which does
// not compress): one endless zstd frame, flushed after each batch so the
// receiver can decompress everything sent so far, with the whole window
// behind each batch (lines of a terminal resemble the lines before them).
//
// Memory: the compressor keeps a 2^kStreamWindowLog window plus level-3
// match tables cut to 2^kStreamHashLog entries each (1.15 MiB allocated,
// about 0.5-0.8 MiB of it touched; zstd's level-3 defaults, 2^17 and 2^16,
// took 1.75 MiB for no smaller output on terminal text: docs/benchmarks.md,
// "Server memory after a flood"); the decompressor refuses frames whose
// window exceeds 2^kMaxStreamWindowLog, holds the compressed bytes appended
// and not yet decompressed, and produces at most the output asked for per
// call, so a hostile peer's decompression bomb costs nothing beyond that.
//
// Not thread-safe; one object per stream direction.
#ifndef MOSHX_NET_STREAM_ZSTD_STREAM_H_
#define MOSHX_NET_STREAM_ZSTD_STREAM_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace moshx::net::stream {

inline constexpr int kStreamWindowLog = 18;
inline constexpr int kStreamHashLog = 14;  // hashLog and chainLog
inline constexpr int kMaxStreamWindowLog = 20;

class StreamCompressor {
 public:
  StreamCompressor();
  ~StreamCompressor();
  StreamCompressor(const StreamCompressor&) = delete;
  StreamCompressor& operator=(const StreamCompressor&) = delete;

  // Compresses `input` and flushes: appends to *out bytes that let the peer
  // decompress all input so far. Internal on a zstd failure (then the
  // stream is unusable).
  absl::Status CompressAndFlush(absl::string_view input, std::string* out);
  // Bytes the compression context has allocated (ZSTD_sizeof_CCtx).
  size_t memory_bytes() const;

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

class StreamDecompressor {
 public:
  StreamDecompressor();
  ~StreamDecompressor();
  StreamDecompressor(const StreamDecompressor&) = delete;
  StreamDecompressor& operator=(const StreamDecompressor&) = delete;

  // Takes compressed bytes (kept until decompressed; the caller bounds how
  // much it appends before draining).
  void Append(absl::string_view compressed);
  // Appends at most `max_output` (> 0) decompressed bytes to *out. DataLoss
  // for a corrupt stream, an end of frame (the sender never ends it) or a
  // window above 2^kMaxStreamWindowLog; every later call fails too.
  absl::Status Drain(size_t max_output, std::string* out);
  // Compressed bytes appended and not yet consumed by zstd.
  size_t pending_input() const { return pending_.size() - pos_; }
  // True when Drain() would produce nothing more without more input.
  bool idle() const { return pending_input() == 0 && !output_held_; }

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  std::string pending_;
  size_t pos_ = 0;
  bool output_held_ = false;  // zstd may hold output it could not hand out
  absl::Status status_;
};

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_ZSTD_STREAM_H_
