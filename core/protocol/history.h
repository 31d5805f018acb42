// History records: the lines that scrolled off the top of the server's
// primary screen, as they travel on the history stream (issue 14,
// docs/protocol.md §7.6).
//
// The history stream is a reliable, ordered byte stream from server to
// client (a net/stream StreamMux stream at kPriorityHistory). Its bytes,
// after decompression (the stream is zstd-compressed as a whole, see
// net/stream/zstd_stream.h), are a sequence of records:
//
//   record  := varint body_length, body            (1 <= body_length <= kMaxHistoryRecordBytes)
//   body    := 0x01 flags width spans              a line (flags bit 0: wrapped)
//            | 0x02 varint count                   `count` >= 1 lines were not kept
//   width   := varint, 1..core::kMaxScreenDimension
//   spans   := varint n, then n times: renditions link varint cells token*cells
//   renditions := attributes(1 byte) color(fg) color(bg)
//   color   := 0x00 | 0x01 index | 0x02 index | 0x03 r g b   (default, ANSI 0-15, 256, RGB)
//   link    := 0x00 | 0x01 varint id_len id varint uri_len uri
//   token   := 0x20                                a blank cell
//            | 0x21..0x7e                          that ASCII character
//            | 0x00 width(1 or 2) varint len text  any other grapheme (UTF-8, 1..128 bytes,
//                                                  not starting with a combining mark, not
//                                                  a lone space)
//
// A width-2 token covers two columns (its right half is implied). Columns a
// line's tokens do not cover are blank cells with default renditions, so
// trailing blanks cost nothing. Lines are numbered from 0 in the order they
// left the screen; a gap record stands for `count` numbers, so a receiver
// always knows the number of the next line.
//
// Everything a receiver prints is checked here: text is valid UTF-8 without
// control characters (C0, DEL, C1), each cell's text canonical as core::Row
// requires (Row::Validate holds for every line), hyperlinks as core::Hyperlink requires,
// widths and sizes within the bounds above. A record that breaks any rule
// makes the decoder fail for good (the stream is corrupt: stop reading it).
#ifndef MOSHX_CORE_PROTOCOL_HISTORY_H_
#define MOSHX_CORE_PROTOCOL_HISTORY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/framebuffer.h"

namespace moshx::protocol {

// The history stream's id in the association's stream multiplexer: the
// first stream the server opens (server-opened ids are odd, from 1). A
// server with scrollback on opens it before any other; one with scrollback
// off opens none.
inline constexpr uint64_t kHistoryStreamId = 1;

// Largest record body either side accepts (a 1024-column line of the
// longest graphemes needs about 140 KiB).
inline constexpr size_t kMaxHistoryRecordBytes = 256 * 1024;
// Longest hyperlink id or URI carried (longer ones are sent without the link).
inline constexpr size_t kMaxHistoryLinkBytes = 4096;

// One decoded record: a line, or a count of lines that were not kept.
struct HistoryRecord {
  std::optional<core::Row> line;  // set for a line record
  uint64_t lines_not_kept = 0;    // > 0 for a gap record
};

// Appends the record for `row` (its cells, renditions, hyperlinks and
// wrapped flag) to *out. A row wider than core::kMaxScreenDimension is cut to
// it; cells that break the rules above (not possible for rows the emulator
// makes) are sent as blanks, and links longer than kMaxHistoryLinkBytes are
// left out, so the record always decodes.
void AppendHistoryLine(const core::Row& row, std::string* out);

// Appends the records of core::PlainRows, each exactly as
// AppendHistoryLine(core::LayOut(row)) would, byte for byte, at about a
// lookup per column instead of laying out and inspecting ~64-byte cells
// (a plain-text flood's kept lines: term/emulator.h). Each palette is
// analysed once when it first comes (the newest is kept: a flood's lines
// share one). A palette with a wide cell or a link (not one the emulator
// makes) is encoded through LayOut. Value type; thread-compatible.
class PlainLineEncoder {
 public:
  void Append(const core::PlainRow& row, std::string* out);

 private:
  // What a column holding one palette cell adds to a line.
  struct Kind {
    bool default_blank = true;  // a default blank (trailing ones are not sent)
    int style = 0;              // index in styles_; equal renditions, equal index
    std::string token;
  };
  struct Span {
    int begin;
    int end;
    int style;
  };
  void Analyse(const std::shared_ptr<const core::PlainPalette>& palette);
  const Kind& KindAt(absl::string_view text, int col) const;

  std::shared_ptr<const core::PlainPalette> palette_;
  bool exact_ = false;               // the palette has only narrow cells without links
  std::array<Kind, 96> kinds_;       // the 95 glyphs, then the blank
  size_t max_token_ = 1;             // the longest of their tokens
  std::vector<std::string> styles_;  // a span's renditions and link, encoded
  std::vector<core::Renditions> style_renditions_;
  std::vector<Span> spans_;          // scratch
  std::string body_;                 // scratch
};

// Appends a gap record for `count` >= 1 lines not kept (count 0 appends
// nothing).
void AppendHistoryGap(uint64_t count, std::string* out);

// The text a receiver shows for a gap: "[moshx: 2,987,654 lines not kept]".
std::string HistoryGapText(uint64_t count);

// Turns the decompressed stream back into records, whatever the split of
// the bytes into Push() calls.
class HistoryDecoder {
 public:
  // Decodes every complete record in the bytes so far, appending them to
  // *out. DataLoss (and every later call too) once a record is malformed.
  // Memory: holds at most one incomplete record (bounded above).
  absl::Status Push(absl::string_view bytes, std::vector<HistoryRecord>* out);

  // Bytes of an incomplete record held.
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  absl::Status status_;
};

// Decodes one record body (without its length prefix). Exposed for tests
// and the fuzzer.
absl::Status DecodeHistoryRecord(absl::string_view body, HistoryRecord* record);

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_HISTORY_H_
