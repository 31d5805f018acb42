// Fuzzes what the remote side of `moshx bootstrap` prints (untrusted: any
// login shell, banner or hostile server): the probe and upload-reply parsers
// must never crash, and what they accept must hold only well-formed hashes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "cmd/launch/bootstrap_script.h"

namespace {

bool WellFormed(const moshx::cmd::RemoteFile& f) {
  return (f.sha256.empty() || f.sha256.size() == 64) &&
         (f.build_id.empty() || f.build_id.size() == 12);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  auto probe = moshx::cmd::ParseProbe(lines);
  if (probe.ok()) {
    if (probe->dest.path.empty() || !WellFormed(probe->dest) || !WellFormed(probe->command)) {
      std::abort();
    }
    // Any verdict will do: the fuzzer looks for crashes, not answers.
    moshx::cmd::CheckPlatform(*probe).IgnoreError();
    (void)moshx::cmd::IsSameBuild(probe->dest, std::string(64, 'a'), "0123456789abcdef");
  }
  for (const std::string& line : lines) {
    auto reply = moshx::cmd::ParseUploadReply(line);
    if (reply.ok() && !WellFormed(*reply)) std::abort();
  }
  return 0;
}
