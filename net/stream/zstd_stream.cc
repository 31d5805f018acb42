#include "net/stream/zstd_stream.h"

#include <algorithm>

#include "zstd.h"

namespace moshx::net::stream {

struct StreamCompressor::Context {
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  std::unique_ptr<ZSTD_CCtx, Free> cctx{ZSTD_createCCtx()};
};

StreamCompressor::StreamCompressor() : context_(std::make_unique<Context>()) {
  ZSTD_CCtx* c = context_->cctx.get();
  if (c == nullptr) return;
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, kStreamWindowLog);
  ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, kStreamHashLog);
  ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, kStreamHashLog);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
}

StreamCompressor::~StreamCompressor() = default;

absl::Status StreamCompressor::CompressAndFlush(absl::string_view input, std::string* out) {
  ZSTD_CCtx* c = context_->cctx.get();
  if (c == nullptr) return absl::InternalError("zstd: no compression context");
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  const size_t chunk = ZSTD_CStreamOutSize();
  for (;;) {
    const size_t start = out->size();
    out->resize(start + chunk);
    ZSTD_outBuffer ob{out->data() + start, chunk, 0};
    const size_t rc = ZSTD_compressStream2(c, &ob, &in, ZSTD_e_flush);
    out->resize(start + ob.pos);
    if (ZSTD_isError(rc)) return absl::InternalError(ZSTD_getErrorName(rc));
    if (rc == 0 && in.pos == in.size) return absl::OkStatus();
  }
}

size_t StreamCompressor::memory_bytes() const {
  return context_->cctx == nullptr ? 0 : ZSTD_sizeof_CCtx(context_->cctx.get());
}

struct StreamDecompressor::Context {
  struct Free {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<ZSTD_DCtx, Free> dctx{ZSTD_createDCtx()};
};

StreamDecompressor::StreamDecompressor() : context_(std::make_unique<Context>()) {
  if (context_->dctx != nullptr) {
    ZSTD_DCtx_setParameter(context_->dctx.get(), ZSTD_d_windowLogMax, kMaxStreamWindowLog);
  }
}

StreamDecompressor::~StreamDecompressor() = default;

void StreamDecompressor::Append(absl::string_view compressed) {
  if (pos_ > 0 && pos_ == pending_.size()) {
    pending_.clear();
    pos_ = 0;
  }
  pending_.append(compressed.data(), compressed.size());
}

absl::Status StreamDecompressor::Drain(size_t max_output, std::string* out) {
  if (!status_.ok()) return status_;
  ZSTD_DCtx* d = context_->dctx.get();
  if (d == nullptr) return status_ = absl::InternalError("zstd: no decompression context");
  size_t room = max_output;
  while (room > 0 && (pending_input() > 0 || output_held_)) {
    const size_t start = out->size();
    const size_t want = std::min(room, ZSTD_DStreamOutSize());
    out->resize(start + want);
    ZSTD_outBuffer ob{out->data() + start, want, 0};
    ZSTD_inBuffer in{pending_.data() + pos_, pending_.size() - pos_, 0};
    const size_t rc = ZSTD_decompressStream(d, &ob, &in);
    out->resize(start + ob.pos);
    pos_ += in.pos;
    if (ZSTD_isError(rc)) {
      return status_ = absl::DataLossError(
                 std::string("history stream: corrupt zstd data: ") + ZSTD_getErrorName(rc));
    }
    if (rc == 0) return status_ = absl::DataLossError("history stream: zstd frame ended");
    room -= ob.pos;
    // A full output buffer may leave output inside zstd; otherwise it
    // handed out everything the input so far allows.
    output_held_ = ob.pos == want;
    if (ob.pos == 0 && in.pos == 0) break;
  }
  if (pos_ == pending_.size()) {
    pending_.clear();
    pos_ = 0;
  }
  return absl::OkStatus();
}

}  // namespace moshx::net::stream
