// Compression of serialized Instructions (docs/protocol.md §5.5).
//
//   * ZlibCompressor (mosh mode): zlib format (RFC 1950) at the default level,
//     so streams start 78 9C, as mosh's compress() produces; any zlib level
//     is accepted on input. No raw deflate, no gzip, no dictionary.
//   * ZstdCompressor (moshx mode): one zstd frame per instruction.
//
// Both decompress into at most `max_size` bytes (default kMaxInstructionSize,
// 4 MiB, mosh's limit). Output beyond the cap is never allocated: a
// decompression bomb is rejected with ResourceExhausted once the cap is
// reached; a corrupt, truncated or trailing-garbage stream is rejected with
// InvalidArgument ("data loss" in the caller's drop counter).
//
// Ownership: each object owns its library contexts (z_stream is set up per
// call; ZSTD_CCtx/ZSTD_DCtx are held in RAII handles and reused).
// Thread-safety: NOT thread-safe (contexts are reused); one per thread.
#ifndef MOSHX_NET_COMPRESSOR_H_
#define MOSHX_NET_COMPRESSOR_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/packet_format.h"

namespace moshx::net {

class Compressor {
 public:
  virtual ~Compressor() = default;

  // Compresses `input`. Output is never empty.
  virtual absl::StatusOr<std::string> Compress(absl::string_view input) = 0;

  // Decompresses one complete stream/frame of at most `max_size` bytes.
  virtual absl::StatusOr<std::string> Decompress(absl::string_view input,
                                                 size_t max_size = kMaxInstructionSize) = 0;
};

// The compressor for a wire mode: zlib for kMosh, zstd for kMoshx.
std::unique_ptr<Compressor> NewCompressor(WireMode mode);

class ZlibCompressor final : public Compressor {
 public:
  absl::StatusOr<std::string> Compress(absl::string_view input) override;
  absl::StatusOr<std::string> Decompress(absl::string_view input, size_t max_size) override;
  using Compressor::Decompress;
};

class ZstdCompressor final : public Compressor {
 public:
  ZstdCompressor();
  ~ZstdCompressor() override;
  absl::StatusOr<std::string> Compress(absl::string_view input) override;
  absl::StatusOr<std::string> Decompress(absl::string_view input, size_t max_size) override;
  using Compressor::Decompress;

 private:
  struct Contexts;  // RAII owners of ZSTD_CCtx / ZSTD_DCtx
  std::unique_ptr<Contexts> contexts_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_COMPRESSOR_H_
