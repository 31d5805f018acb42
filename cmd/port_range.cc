#include "cmd/port_range.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd {
namespace {

bool AllDigits(absl::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == absl::string_view::npos;
}

// Parses one number; `low_label`/`high_label` pick mosh's wording.
absl::StatusOr<uint16_t> ParsePort(absl::string_view text, bool high, bool in_range) {
  int64_t value = 0;
  if (!AllDigits(text) || text.size() > 18 || !absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(high ? absl::StrCat("Invalid high port number (", text, ")")
                                           : absl::StrCat("Invalid ", in_range ? "low " : "",
                                                          "port number (", text, ")"));
  }
  if (value > 65535) {
    return absl::InvalidArgumentError(
        high ? absl::StrCat("High port number ", value, " outside valid range [0..65535]")
             : absl::StrCat(in_range ? "Low port" : "Port", " number ", value,
                            " outside valid range [0..65535]"));
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

absl::StatusOr<net::PortRange> ParsePortRange(absl::string_view text) {
  size_t colon = text.find(':');
  bool is_range = colon != absl::string_view::npos;
  auto low = ParsePort(text.substr(0, colon), /*high=*/false, is_range);
  if (!low.ok()) return low.status();
  if (!is_range) return net::PortRange{*low, *low};
  auto high = ParsePort(text.substr(colon + 1), /*high=*/true, true);
  if (!high.ok()) return high.status();
  if (*low > *high) {
    return absl::InvalidArgumentError(
        absl::StrCat("Low port ", *low, " greater than high port ", *high));
  }
  if (*low == 0) return absl::InvalidArgumentError("Low port 0 incompatible with port ranges");
  return net::PortRange{*low, *high};
}

}  // namespace moshx::cmd
