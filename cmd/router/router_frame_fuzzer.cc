// Whatever ParseFrame accepts encodes back to the same bytes, and nothing
// crashes it (docs/router.md §3).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "cmd/router/router_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<moshx::cmd::router::Frame> frame = moshx::cmd::router::ParseFrame(bytes);
  if (!frame.ok()) return 0;
  absl::StatusOr<std::string> again = moshx::cmd::router::EncodeFrame(*frame);
  if (!again.ok() || *again != bytes) std::abort();
  return 0;
}
