#include "cmd/sys/terminfo.h"

#include <cstdint>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace moshx::sys {
namespace {

std::string Lookup(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

// The compiled entry's `colors` (numeric capability 13).
absl::StatusOr<int> ParseTerminfoColors(const std::string& data) {
  auto u16 = [&](size_t at) {
    return static_cast<int>(static_cast<uint8_t>(data[at]) |
                            static_cast<uint8_t>(data[at + 1]) << 8);
  };
  if (data.size() < 12) return absl::DataLossError("short terminfo entry");
  int magic = u16(0);
  size_t number_size = magic == 0432 ? 2 : magic == 01036 ? 4 : 0;
  if (number_size == 0) return absl::DataLossError("not a terminfo entry");
  size_t names = u16(2), bools = u16(4), numbers = u16(6);
  size_t offset = 12 + names + bools;
  offset += offset % 2;
  constexpr size_t kColors = 13;
  if (numbers <= kColors) return -1;
  size_t at = offset + kColors * number_size;
  if (at + number_size > data.size()) return absl::DataLossError("truncated terminfo entry");
  int64_t value = 0;
  for (size_t k = 0; k < number_size; ++k) {
    value |= static_cast<int64_t>(static_cast<uint8_t>(data[at + k])) << (8 * k);
  }
  if (number_size == 2 && value >= 0x8000) value -= 0x10000;
  if (number_size == 4 && value >= 0x80000000LL) value -= 0x100000000LL;
  return value < 0 ? -1 : static_cast<int>(value);
}

}  // namespace

std::vector<std::string> TerminfoDirectories(const std::map<std::string, std::string>& env) {
  std::vector<std::string> dirs;
  if (!Lookup(env, "TERMINFO").empty()) dirs.push_back(Lookup(env, "TERMINFO"));
  if (!Lookup(env, "HOME").empty()) dirs.push_back(Lookup(env, "HOME") + "/.terminfo");
  for (absl::string_view d : absl::StrSplit(Lookup(env, "TERMINFO_DIRS"), ':', absl::SkipEmpty())) {
    dirs.emplace_back(d);
  }
  for (const char* d : {"/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"}) {
    dirs.emplace_back(d);
  }
  return dirs;
}

absl::StatusOr<int> TerminfoColors(const std::string& term,
                                   const std::vector<std::string>& dirs) {
  if (term.empty() || term.find('/') != std::string::npos || term[0] == '.') {
    return absl::NotFoundError("no terminfo entry");
  }
  for (const std::string& dir : dirs) {
    for (const std::string& sub :
         {std::string(1, term[0]), absl::StrFormat("%02x", static_cast<uint8_t>(term[0]))}) {
      std::ifstream in(absl::StrCat(dir, "/", sub, "/", term), std::ios::binary);
      if (!in) continue;
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return ParseTerminfoColors(data);
    }
  }
  return absl::NotFoundError("no terminfo entry");
}

}  // namespace moshx::sys
