#include "cmd/sys/process.h"

#include <malloc.h>
#include <signal.h>

#include <cstdint>

#include "openssl/rand.h"

namespace moshx::sys {

absl::StatusOr<std::unique_ptr<ProcessRuntime>> ProcessRuntime::Create() {
  std::unique_ptr<ProcessRuntime> runtime(new ProcessRuntime);
  absl::StatusOr<std::unique_ptr<net::PollEventLoop>> loop =
      net::PollEventLoop::Create(&runtime->clock_);
  if (!loop.ok()) return loop.status();
  runtime->loop_ = *std::move(loop);
  uint64_t seed = 0;
  RAND_bytes(reinterpret_cast<uint8_t*>(&seed), sizeof(seed));
  runtime->rng_.seed(seed);
  return runtime;
}

void IgnoreHangupAndBrokenPipe() {
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
}

void ReleaseFreeHeapMemory() {
  // The result says only whether anything was released.
  (void)malloc_trim(0);
}

}  // namespace moshx::sys
