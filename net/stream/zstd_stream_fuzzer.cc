// Untrusted compressed stream bytes: the decompressor never crashes and never
// hands out more than it was asked for.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/stream/zstd_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  moshx::net::stream::StreamDecompressor d;
  const char* p = reinterpret_cast<const char*>(data);
  d.Append(absl::string_view(p, size / 2));
  std::string out;
  size_t total = 0;
  for (int round = 0; round < 64 && !d.idle(); ++round) {
    out.clear();
    if (!d.Drain(65536, &out).ok()) return 0;
    if (out.size() > 65536) abort();
    total += out.size();
  }
  d.Append(absl::string_view(p + size / 2, size - size / 2));
  for (int round = 0; round < 64 && !d.idle(); ++round) {
    out.clear();
    if (!d.Drain(65536, &out).ok()) return 0;
    if (out.size() > 65536) abort();
  }
  return 0;
}
