#include "net/vector_file.h"

#include <fstream>
#include <string>

#include "absl/base/internal/raw_logging.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace moshx::net::testing {

absl::StatusOr<std::vector<VectorRecord>> ReadVectorFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<VectorRecord> records;
  VectorRecord current;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty()) {
      if (!current.empty()) records.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (text[0] == '#') continue;
    size_t eq = text.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": bad line: ", text));
    }
    std::string key(absl::StripAsciiWhitespace(text.substr(0, eq)));
    current[key] = std::string(absl::StripAsciiWhitespace(text.substr(eq + 1)));
  }
  if (!current.empty()) records.push_back(std::move(current));
  return records;
}

std::string Hex(absl::string_view hex) {
  ABSL_RAW_CHECK(hex.size() % 2 == 0, "odd-length hex");
  for (char c : hex) ABSL_RAW_CHECK(absl::ascii_isxdigit(c), "non-hex character");
  return absl::HexStringToBytes(hex);
}

std::string ToHex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

}  // namespace moshx::net::testing
