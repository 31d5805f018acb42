// IntervalSet: a set of uint64 values stored as disjoint half-open ranges
// [start, end), merged when they touch. Used for acknowledged and lost byte
// ranges of a stream and for received packet numbers.
//
// Cost: O(log n) per operation on n ranges. The set itself is unbounded;
// callers bound it (see RemoveLowest()). Value type, not thread-safe.
#ifndef MOSHX_NET_STREAM_INTERVAL_SET_H_
#define MOSHX_NET_STREAM_INTERVAL_SET_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace moshx::net::stream {

class IntervalSet {
 public:
  using Map = std::map<uint64_t, uint64_t>;  // start -> end

  void Add(uint64_t start, uint64_t end);
  void Remove(uint64_t start, uint64_t end);
  void Clear() { ranges_.clear(); }

  bool Contains(uint64_t v) const;
  bool empty() const { return ranges_.empty(); }
  // Number of disjoint ranges.
  size_t size() const { return ranges_.size(); }
  const Map& ranges() const { return ranges_; }
  // The lowest range, if any.
  std::optional<std::pair<uint64_t, uint64_t>> First() const;
  // The end of the range that contains `v`, or `v` if none does.
  uint64_t ContiguousEnd(uint64_t v) const;
  // Drops the lowest range (to bound the set's size).
  void RemoveLowest();

 private:
  Map ranges_;
};

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_INTERVAL_SET_H_
