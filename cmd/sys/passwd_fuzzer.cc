// Fuzzes the passwd(5) parser: it must never crash, and an entry it returns
// must have the requested uid, a non-empty name and fields free of ':' and
// newlines. Input: 4 bytes of uid (little endian), then the file text.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cmd/sys/passwd.h"

namespace {

bool Clean(const std::string& field) {
  return field.find_first_of(":\n") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t uid = data[0] | data[1] << 8 | data[2] << 16 |
                 static_cast<uint32_t>(data[3]) << 24;
  std::string text(reinterpret_cast<const char*>(data) + 4, size - 4);
  auto entry = moshx::sys::FindPasswdEntry(text, uid);
  if (!entry.has_value()) return 0;
  if (entry->uid != uid || entry->name.empty()) std::abort();
  for (const std::string* f : {&entry->name, &entry->home, &entry->shell}) {
    if (!Clean(*f)) std::abort();
  }
  return 0;
}
