#include "core/char_width.h"

#include <algorithm>
#include <iterator>

namespace moshx::core {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// kZeroWidth (combining marks, format characters) and kWide (East Asian
// Wide and Fullwidth), sorted, non-overlapping.
#include "core/char_width_tables.inc"

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t cp) {
  auto it = std::upper_bound(
      std::begin(ranges), std::end(ranges), cp,
      [](char32_t c, const Range& r) { return c < r.first; });
  return it != std::begin(ranges) && cp <= std::prev(it)->last;
}

// Below kFirstTabled no code point is in either table, so the common case
// (ASCII, Latin-1) needs no search: about 200 instructions less a call,
// which was a fifth of the server's work encoding a flood's history
// (docs/benchmarks.md).
constexpr char32_t kFirstTabled = 0x300;
static_assert(kZeroWidth[0].first >= kFirstTabled && kWide[0].first >= kFirstTabled,
              "the tables must start at or above kFirstTabled");

}  // namespace

int CharWidth(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return -1;
  if (cp < kFirstTabled) return 1;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  if (InRanges(kZeroWidth, cp)) return 0;
  if (InRanges(kWide, cp)) return 2;
  return 1;
}

bool DecodeUtf8(absl::string_view text, size_t* pos, char32_t* cp) {
  size_t i = *pos;
  if (i >= text.size()) return false;
  const unsigned char lead = static_cast<unsigned char>(text[i]);
  int length;
  char32_t value;
  if (lead < 0x80) {
    length = 1, value = lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07;
  } else {
    return false;
  }
  if (text.size() - i < static_cast<size_t>(length)) return false;
  for (int k = 1; k < length; ++k) {
    const unsigned char c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return false;
    value = (value << 6) | (c & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMin[length] || value > 0x10FFFF) return false;
  if (value >= 0xD800 && value <= 0xDFFF) return false;
  *pos = i + length;
  *cp = value;
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace moshx::core
