#include "cmd/sys/hardening.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <cerrno>

#include "openssl/crypto.h"

namespace moshx::sys {
namespace {

struct rlimit saved_core_limit;
bool core_limit_saved = false;

}  // namespace

absl::Status HardenProcess() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_CORE, &limit) != 0) return absl::ErrnoToStatus(errno, "getrlimit");
  if (!core_limit_saved) {
    saved_core_limit = limit;
    core_limit_saved = true;
  }
  limit.rlim_cur = 0;
  if (setrlimit(RLIMIT_CORE, &limit) != 0) return absl::ErrnoToStatus(errno, "setrlimit");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return absl::ErrnoToStatus(errno, "prctl(PR_SET_DUMPABLE)");
  }
  return absl::OkStatus();
}

const struct rlimit* CoreLimitBeforeHardening() {
  return core_limit_saved ? &saved_core_limit : nullptr;
}

std::optional<std::string> TakeSecretEnvironmentVariable(const char* name) {
  char* value = getenv(name);
  if (value == nullptr) return std::nullopt;
  std::string copy(value);
  OPENSSL_cleanse(value, strlen(value));
  unsetenv(name);
  return copy;
}

}  // namespace moshx::sys
