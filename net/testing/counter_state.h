// CounterState: the smallest state satisfying net/sync_state.h, for
// transport tests without a terminal.
//
// The state is a counter that only grows, plus an optional padding length
// that makes diffs large (to exercise fragmentation and MTU handling).
// A diff names both ends, "from -> to", so applying it anywhere but on a
// state holding exactly `from` fails: a transport that applied a diff to the
// wrong reference, applied a state twice, or went backwards is caught by
// ApplyDiff's status. The padding bytes are a pseudo-random function of `to`
// (incompressible, checked on apply).
//
// Diff layout: u64 from (BE) | u64 to (BE) | u32 padding length (BE) | padding.
// Header-only value type; testonly.
#ifndef MOSHX_NET_TESTING_COUNTER_STATE_H_
#define MOSHX_NET_TESTING_COUNTER_STATE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "net/sync_state.h"

namespace moshx::net::testing {

class CounterState {
 public:
  CounterState() = default;
  explicit CounterState(uint64_t value) : value_(value) {}

  uint64_t value() const { return value_; }
  void Add(uint64_t n) { value_ += n; }
  // Diffs towards this state carry `bytes` of padding.
  void set_padding(uint32_t bytes) { padding_ = bytes; }
  uint32_t padding() const { return padding_; }

  std::string DiffFrom(const CounterState& reference) const {
    if (*this == reference) return "";
    std::string out;
    PutU64(&out, reference.value_);
    PutU64(&out, value_);
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char(padding_ >> shift));
    out += Padding(value_, padding_);
    return out;
  }

  absl::Status ApplyDiff(absl::string_view diff) {
    if (diff.size() < 20) return absl::InvalidArgumentError("counter diff too short");
    uint64_t from = GetU64(diff.substr(0, 8)), to = GetU64(diff.substr(8, 8));
    uint32_t pad = static_cast<uint32_t>(GetU64(absl::StrCat(
        std::string(4, '\0'), diff.substr(16, 4))));
    if (from != value_) {
      return absl::FailedPreconditionError(
          absl::StrCat("diff from ", from, " applied to state ", value_));
    }
    if (to < from) return absl::InvalidArgumentError("counter went backwards");
    if (diff.size() - 20 != pad || diff.substr(20) != Padding(to, pad)) {
      return absl::InvalidArgumentError("counter padding corrupt");
    }
    value_ = to;
    padding_ = pad;
    return absl::OkStatus();
  }

  std::string InitDiff() const { return DiffFrom(CounterState()); }
  void Subtract(const CounterState&) {}  // not append-only: nothing to drop

  friend bool operator==(const CounterState& a, const CounterState& b) {
    return a.value_ == b.value_ && a.padding_ == b.padding_;
  }
  friend bool operator!=(const CounterState& a, const CounterState& b) { return !(a == b); }

 private:
  static void PutU64(std::string* out, uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out->push_back(char(v >> shift));
  }
  static uint64_t GetU64(absl::string_view b) {
    uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
    return v;
  }
  // splitmix64 stream seeded by the value: incompressible and reproducible.
  static std::string Padding(uint64_t seed, uint32_t n) {
    std::string out(n, '\0');
    uint64_t x = seed;
    for (uint32_t i = 0; i < n; ++i) {
      if (i % 8 == 0) {
        x += 0x9E3779B97F4A7C15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        seed = z ^ (z >> 31);
      }
      out[i] = static_cast<char>(seed >> (8 * (i % 8)));
    }
    return out;
  }

  uint64_t value_ = 0;
  uint32_t padding_ = 0;
};

static_assert(IsSyncState<CounterState>, "CounterState must satisfy sync_state.h");

}  // namespace moshx::net::testing

#endif  // MOSHX_NET_TESTING_COUNTER_STATE_H_
