#include "term/vt_stream.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moshx::term {
namespace {

constexpr absl::string_view kPrefix = "\x1b_moshx-resize;";
constexpr absl::string_view kSuffix = "\x1b\\";
constexpr int kMaxSize = 10000;

// Parses "ROWS;COLS" into *event; false if malformed.
bool ParseSize(absl::string_view text, VtEvent* event) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(';', 1));
  int rows, cols;
  if (!absl::SimpleAtoi(parts.first, &rows) ||
      !absl::SimpleAtoi(parts.second, &cols) || rows < 1 || cols < 1 ||
      rows > kMaxSize || cols > kMaxSize) {
    return false;
  }
  event->is_resize = true;
  event->width = cols;
  event->height = rows;
  return true;
}

}  // namespace

std::string ResizeMarker(int width, int height) {
  return absl::StrCat(kPrefix, height, ";", width, kSuffix);
}

std::vector<VtEvent> SplitVtStream(absl::string_view stream) {
  std::vector<VtEvent> events;
  std::string pending;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t start = stream.find(kPrefix, pos);
    const size_t end = start == absl::string_view::npos
                           ? absl::string_view::npos
                           : stream.find(kSuffix, start + kPrefix.size());
    VtEvent resize;
    if (end == absl::string_view::npos ||
        !ParseSize(stream.substr(start + kPrefix.size(),
                                 end - start - kPrefix.size()),
                   &resize)) {
      // No (valid) marker: everything up to the next candidate is bytes.
      const size_t stop = start == absl::string_view::npos
                              ? stream.size()
                              : start + kPrefix.size();
      absl::StrAppend(&pending, stream.substr(pos, stop - pos));
      pos = stop;
      continue;
    }
    absl::StrAppend(&pending, stream.substr(pos, start - pos));
    if (!pending.empty()) {
      VtEvent bytes;
      bytes.bytes = std::move(pending);
      events.push_back(std::move(bytes));
      pending.clear();
    }
    events.push_back(resize);
    pos = end + kSuffix.size();
  }
  if (!pending.empty()) {
    VtEvent bytes;
    bytes.bytes = std::move(pending);
    events.push_back(std::move(bytes));
  }
  return events;
}

}  // namespace moshx::term
