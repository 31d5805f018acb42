#include "net/compressor.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "zlib.h"
#include "zstd.h"

namespace moshx::net {
namespace {

constexpr size_t kFirstChunk = 16 * 1024;
// zstd's window is capped so a hostile frame header cannot make the decoder
// allocate more than 8 MiB of history (our own frames need <= 4 MiB).
constexpr int kZstdWindowLogMax = 23;
// Level 5 (greedy matching): on the instructions of vim paging, `top` and a
// base64 flood, 1.5-2.1% fewer bytes than level 3 for about 1.5 us more per
// instruction and the same context size; levels 6-9 gain nothing more on
// these small frames, 16-19 about 1% more for 266 KB of context and ~45 us
// (docs/benchmarks.md, Notes of 2026-12-07 14:00). Receivers accept any level.
constexpr int kZstdLevel = 5;

absl::Status Bomb() {
  return absl::ResourceExhaustedError("decompressed instruction exceeds size limit");
}
absl::Status Corrupt(absl::string_view what) { return absl::InvalidArgumentError(what); }

// Grows *out towards `cap` (never past it); returns false when already at cap.
// A fresh string of the exact size is allocated, because std::string::resize
// may round the capacity up to twice the old one, past the cap.
bool Grow(std::string* out, size_t cap) {
  if (out->size() >= cap) return false;
  std::string bigger(std::min(cap, std::max(kFirstChunk, out->size() * 2)), '\0');
  std::copy(out->begin(), out->end(), bigger.begin());
  out->swap(bigger);
  return true;
}

// Owns an inflate z_stream; inflateEnd on destruction.
class Inflater {
 public:
  Inflater() {
    std::memset(&stream_, 0, sizeof(stream_));
    ok_ = inflateInit(&stream_) == Z_OK;
  }
  ~Inflater() {
    if (ok_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  bool ok() const { return ok_; }
  z_stream* get() { return &stream_; }

 private:
  z_stream stream_;
  bool ok_;
};

// Runs inflate into out[*produced..]; returns the zlib result code.
int InflateInto(z_stream* z, std::string* out, size_t* produced) {
  z->next_out = reinterpret_cast<Bytef*>(&(*out)[*produced]);
  z->avail_out = static_cast<uInt>(out->size() - *produced);
  int rc = inflate(z, Z_NO_FLUSH);
  *produced = out->size() - z->avail_out;
  return rc;
}

}  // namespace

std::unique_ptr<Compressor> NewCompressor(WireMode mode) {
  if (mode == WireMode::kMosh) return std::make_unique<ZlibCompressor>();
  return std::make_unique<ZstdCompressor>();
}

absl::StatusOr<std::string> ZlibCompressor::Compress(absl::string_view input) {
  std::string out(compressBound(input.size()), '\0');
  uLongf len = out.size();
  int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &len,
                     reinterpret_cast<const Bytef*>(input.data()), input.size(),
                     Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) return absl::InternalError("zlib compress failed");
  out.resize(len);
  return out;
}

absl::StatusOr<std::string> ZlibCompressor::Decompress(absl::string_view input,
                                                       size_t max_size) {
  Inflater inflater;
  if (!inflater.ok()) return absl::InternalError("zlib inflateInit failed");
  z_stream* z = inflater.get();
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z->avail_in = static_cast<uInt>(input.size());
  std::string out;
  size_t produced = 0;
  for (;;) {
    if (produced == out.size() && !Grow(&out, max_size)) {
      // At the cap: the stream may only end here, producing nothing more.
      char probe;
      z->next_out = reinterpret_cast<Bytef*>(&probe);
      z->avail_out = 1;
      int rc = inflate(z, Z_NO_FLUSH);
      if (z->avail_out == 0) return Bomb();
      if (rc != Z_STREAM_END) return Corrupt("corrupt zlib stream");
      break;
    }
    int rc = InflateInto(z, &out, &produced);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Corrupt("corrupt zlib stream");
    if (rc == Z_BUF_ERROR && z->avail_out != 0) return Corrupt("truncated zlib stream");
  }
  if (z->avail_in != 0) return Corrupt("trailing bytes after zlib stream");
  out.resize(produced);
  return out;
}

struct ZstdCompressor::Contexts {
  struct CFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  struct DFree {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<ZSTD_CCtx, CFree> cctx{ZSTD_createCCtx()};
  std::unique_ptr<ZSTD_DCtx, DFree> dctx{ZSTD_createDCtx()};
};

ZstdCompressor::ZstdCompressor() : contexts_(std::make_unique<Contexts>()) {
  ZSTD_DCtx_setParameter(contexts_->dctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
}

ZstdCompressor::~ZstdCompressor() = default;

absl::StatusOr<std::string> ZstdCompressor::Compress(absl::string_view input) {
  if (!contexts_->cctx) return absl::InternalError("zstd context allocation failed");
  std::string out(ZSTD_compressBound(input.size()), '\0');
  size_t n = ZSTD_compressCCtx(contexts_->cctx.get(), out.data(), out.size(), input.data(),
                               input.size(), kZstdLevel);
  if (ZSTD_isError(n)) return absl::InternalError("zstd compress failed");
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> ZstdCompressor::Decompress(absl::string_view input,
                                                       size_t max_size) {
  ZSTD_DCtx* d = contexts_->dctx.get();
  if (d == nullptr) return absl::InternalError("zstd context allocation failed");
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  std::string out;
  ZSTD_outBuffer ob{nullptr, 0, 0};
  size_t rc = 1;
  while (rc != 0) {
    if (ob.pos == out.size() && !Grow(&out, max_size)) {
      char probe;
      ZSTD_outBuffer one{&probe, 1, 0};
      rc = ZSTD_decompressStream(d, &one, &in);
      if (ZSTD_isError(rc)) return Corrupt("corrupt zstd frame");
      if (one.pos != 0) return Bomb();
      if (rc != 0) return Corrupt("truncated zstd frame");
      break;
    }
    ob.dst = out.data();
    ob.size = out.size();
    size_t before_in = in.pos, before_out = ob.pos;
    rc = ZSTD_decompressStream(d, &ob, &in);
    if (ZSTD_isError(rc)) return Corrupt("corrupt zstd frame");
    bool stalled = in.pos == before_in && ob.pos == before_out;
    if (rc != 0 && in.pos == in.size && ob.pos < out.size() && stalled) {
      return Corrupt("truncated zstd frame");
    }
  }
  if (in.pos != in.size) return Corrupt("trailing bytes after zstd frame");
  out.resize(ob.pos);
  return out;
}

}  // namespace moshx::net
