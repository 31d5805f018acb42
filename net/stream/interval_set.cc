#include "net/stream/interval_set.h"

#include <algorithm>

namespace moshx::net::stream {

void IntervalSet::Add(uint64_t start, uint64_t end) {
  if (start >= end) return;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= start) {  // overlaps or touches the previous range
      start = prev->first;
      end = std::max(end, prev->second);
      it = ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace_hint(it, start, end);
}

void IntervalSet::Remove(uint64_t start, uint64_t end) {
  if (start >= end) return;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second > start) {
      uint64_t prev_end = prev->second;
      prev->second = start;
      if (prev->first == start) ranges_.erase(prev);
      if (prev_end > end) {
        ranges_.emplace(end, prev_end);
        return;
      }
    }
  }
  while (it != ranges_.end() && it->first < end) {
    if (it->second > end) {
      uint64_t e = it->second;
      ranges_.erase(it);
      ranges_.emplace(end, e);
      return;
    }
    it = ranges_.erase(it);
  }
}

bool IntervalSet::Contains(uint64_t v) const {
  auto it = ranges_.upper_bound(v);
  if (it == ranges_.begin()) return false;
  return std::prev(it)->second > v;
}

std::optional<std::pair<uint64_t, uint64_t>> IntervalSet::First() const {
  if (ranges_.empty()) return std::nullopt;
  return *ranges_.begin();
}

uint64_t IntervalSet::ContiguousEnd(uint64_t v) const {
  auto it = ranges_.upper_bound(v);
  if (it == ranges_.begin()) return v;
  --it;
  return it->second > v ? it->second : v;
}

void IntervalSet::RemoveLowest() {
  if (!ranges_.empty()) ranges_.erase(ranges_.begin());
}

}  // namespace moshx::net::stream
