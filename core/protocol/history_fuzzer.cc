// Untrusted history stream bytes (after decompression): the decoder never
// crashes, and every line it returns re-encodes to a record that decodes to
// the same line, whose cells hold no control characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/protocol/history.h"

using moshx::protocol::AppendHistoryLine;
using moshx::protocol::HistoryDecoder;
using moshx::protocol::HistoryRecord;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  HistoryDecoder decoder;
  std::vector<HistoryRecord> records;
  // Two pieces, split in the middle, as a stream may deliver them.
  (void)decoder.Push(absl::string_view(input).substr(0, size / 2), &records);
  (void)decoder.Push(absl::string_view(input).substr(size / 2), &records);
  for (const HistoryRecord& r : records) {
    if (!r.line.has_value()) {
      if (r.lines_not_kept == 0) abort();
      continue;
    }
    if (!r.line->Validate().ok()) abort();
    for (const auto& cell : r.line->cells()) {
      for (char c : cell.text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) abort();
      }
    }
    std::string wire;
    AppendHistoryLine(*r.line, &wire);
    HistoryDecoder again;
    std::vector<HistoryRecord> back;
    if (!again.Push(wire, &back).ok() || back.size() != 1 || !back[0].line.has_value() ||
        *back[0].line != *r.line) {
      abort();
    }
  }
  return 0;
}
