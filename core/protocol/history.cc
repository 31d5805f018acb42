#include "core/protocol/history.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/char_width.h"
#include "core/protocol/protobuf.h"

namespace moshx::protocol {
namespace {

constexpr char kLineRecord = 0x01;
constexpr char kGapRecord = 0x02;
constexpr char kOtherToken = 0x00;

// Text a receiver may print: valid UTF-8, no C0, DEL or C1 controls.
bool IsPrintableUtf8(absl::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp;
    if (!core::DecodeUtf8(text, &pos, &cp)) return false;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;
  }
  return true;
}

// Cell text in canonical form (core/framebuffer.h, what Row::Validate
// checks): printable UTF-8 whose first code point is not a combining mark
// (width >= 1), and not a lone space (a blank is empty text).
bool IsCanonicalGrapheme(absl::string_view text) {
  if (text.empty() || text == " " || !IsPrintableUtf8(text)) return false;
  size_t pos = 0;
  char32_t base;
  return core::DecodeUtf8(text, &pos, &base) && core::CharWidth(base) >= 1;
}

bool IsPrintableAscii(const std::string& text) {
  return text.size() == 1 && text[0] > 0x20 && text[0] < 0x7f;
}

void AppendColor(const core::Color& c, std::string* out) {
  switch (c.kind) {
    case core::Color::Kind::kDefault:
      out->push_back(0);
      break;
    case core::Color::Kind::kAnsi:
      out->push_back(1);
      out->push_back(static_cast<char>(c.r & 15));
      break;
    case core::Color::Kind::kIndexed:
      out->push_back(2);
      out->push_back(static_cast<char>(c.r));
      break;
    case core::Color::Kind::kRgb:
      out->push_back(3);
      out->push_back(static_cast<char>(c.r));
      out->push_back(static_cast<char>(c.g));
      out->push_back(static_cast<char>(c.b));
      break;
  }
}

bool LinkSendable(const std::shared_ptr<const core::Hyperlink>& link) {
  return link != nullptr && !link->uri.empty() && link->uri.size() <= kMaxHistoryLinkBytes &&
         link->id.size() <= kMaxHistoryLinkBytes && IsPrintableUtf8(link->uri) &&
         IsPrintableUtf8(link->id) && link->id.find_first_of(";:") == std::string::npos;
}

// A cell as it is sent: sendable text, or a blank of the same renditions.
bool CellSendable(const core::Cell& cell) {
  if (cell.text.empty()) return true;
  // One byte is canonical exactly when it is printable ASCII other than a
  // space (what IsCanonicalGrapheme decides, without decoding): the
  // common case, checked for every cell of every history line.
  if (cell.text.size() == 1) return cell.text[0] > 0x20 && cell.text[0] < 0x7f;
  return cell.text.size() <= core::kMaxCellTextBytes && IsCanonicalGrapheme(cell.text);
}

void AppendRenditions(const core::Renditions& r, std::string* out) {
  out->push_back(static_cast<char>(r.attributes));
  AppendColor(r.fg, out);
  AppendColor(r.bg, out);
}

// The token of a sendable, non-blank cell's text (see CellSendable).
void AppendSendableText(const std::string& text, bool wide, std::string* tokens) {
  if (!wide && IsPrintableAscii(text)) {
    tokens->push_back(text[0]);
    return;
  }
  tokens->push_back(kOtherToken);
  tokens->push_back(static_cast<char>(wide ? 2 : 1));
  AppendVarint(tokens, text.size());
  tokens->append(text);
}

struct Reader {
  absl::string_view in;
  bool ok = true;

  uint8_t Byte() {
    if (in.empty()) {
      ok = false;
      return 0;
    }
    const uint8_t b = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    return b;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    if (!ReadVarint(&in, &v)) {
      ok = false;
      return 0;
    }
    return v;
  }
  absl::string_view Bytes(uint64_t n) {
    if (n > in.size()) {
      ok = false;
      return {};
    }
    absl::string_view b = in.substr(0, n);
    in.remove_prefix(n);
    return b;
  }
  bool Color(core::Color* c) {
    switch (Byte()) {
      case 0:
        *c = core::Color::Default();
        return ok;
      case 1: {
        const uint8_t i = Byte();
        if (i >= 16) return false;
        *c = core::Color::Ansi(i);
        return ok;
      }
      case 2:
        *c = core::Color::Indexed(Byte());
        return ok;
      case 3: {
        const uint8_t r = Byte(), g = Byte(), b = Byte();
        *c = core::Color::Rgb(r, g, b);
        return ok;
      }
      default:
        return false;
    }
  }
};

absl::Status Malformed(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("malformed history record: ", why));
}

}  // namespace

namespace {

std::string LineBody(const core::Row& row, bool with_links) {
  const int width = std::min(row.width(), core::kMaxScreenDimension);
  // Columns up to the last one that is not a default blank.
  int used = width;
  while (used > 0) {
    const core::Cell& c = row.cell(used - 1);
    if (!c.text.empty() || c.is_continuation() || !c.renditions.is_default() ||
        (with_links && LinkSendable(c.link))) {
      break;
    }
    --used;
  }
  std::string body;
  body.push_back(kLineRecord);
  body.push_back(row.wrapped() ? 1 : 0);
  AppendVarint(&body, static_cast<uint64_t>(width));
  // Spans: runs of cells with equal renditions and link.
  struct Span {
    int begin;
    int end;
  };
  std::vector<Span> spans;
  for (int col = 0; col < used;) {
    const core::Cell& first = row.cell(col);
    int end = col + 1;
    while (end < used && row.cell(end).renditions == first.renditions &&
           (!with_links || core::SameLink(row.cell(end).link, first.link))) {
      ++end;
    }
    spans.push_back({col, end});
    col = end;
  }
  AppendVarint(&body, spans.size());
  for (const Span& span : spans) {
    const core::Cell& first = row.cell(span.begin);
    AppendRenditions(first.renditions, &body);
    if (with_links && LinkSendable(first.link)) {
      body.push_back(1);
      AppendVarint(&body, first.link->id.size());
      body.append(first.link->id);
      AppendVarint(&body, first.link->uri.size());
      body.append(first.link->uri);
    } else {
      body.push_back(0);
    }
    std::string tokens;
    uint64_t count = 0;
    for (int col = span.begin; col < span.end; ++col) {
      const core::Cell& cell = row.cell(col);
      ++count;
      // A wide character whose right half is not beside it in this span is not
      // canonical (the emulator never makes one): it goes as a blank.
      const bool wide =
          cell.width == 2 && col + 1 < span.end && row.cell(col + 1).is_continuation();
      if (cell.is_continuation() || !CellSendable(cell) || (cell.width == 2 && !wide) ||
          cell.text.empty()) {
        tokens.push_back(' ');  // a blank (a continuation without its left half, too)
        continue;
      }
      AppendSendableText(cell.text, wide, &tokens);
      if (wide) ++col;  // its right half is implied
    }
    AppendVarint(&body, count);
    body.append(tokens);
  }
  return body;
}

}  // namespace

void AppendHistoryLine(const core::Row& row, std::string* out) {
  std::string body = LineBody(row, /*with_links=*/true);
  // Only many long links can pass the bound; without them a line fits.
  if (body.size() > kMaxHistoryRecordBytes) body = LineBody(row, /*with_links=*/false);
  AppendVarint(out, body.size());
  out->append(body);
}

void PlainLineEncoder::Analyse(const std::shared_ptr<const core::PlainPalette>& palette) {
  palette_ = palette;
  styles_.clear();
  style_renditions_.clear();
  exact_ = true;
  max_token_ = 1;
  for (size_t k = 0; k < kinds_.size(); ++k) {
    const std::optional<core::Cell>& given = k < 95 ? palette->glyphs[k] : palette->blank;
    core::Cell cell = given.value_or(core::Cell());
    if (cell.width != 1 || cell.link != nullptr) exact_ = false;
    if (cell.text == " ") cell.text.clear();  // as Row::Set stores it
    Kind& kind = kinds_[k];
    kind.default_blank = cell.text.empty() && cell.renditions.is_default();
    kind.token.clear();
    if (cell.text.empty() || !CellSendable(cell)) {
      kind.token.push_back(' ');
    } else {
      AppendSendableText(cell.text, /*wide=*/false, &kind.token);
    }
    size_t style = 0;
    while (style < style_renditions_.size() && !(style_renditions_[style] == cell.renditions)) {
      ++style;
    }
    if (style == style_renditions_.size()) {
      style_renditions_.push_back(cell.renditions);
      std::string header;
      AppendRenditions(cell.renditions, &header);
      header.push_back(0);  // no link
      styles_.push_back(std::move(header));
    }
    kind.style = static_cast<int>(style);
    max_token_ = std::max(max_token_, kind.token.size());
  }
}

const PlainLineEncoder::Kind& PlainLineEncoder::KindAt(absl::string_view text, int col) const {
  const size_t i = static_cast<size_t>(col);
  const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
  return c >= 0x20 && c < 0x7f ? kinds_[c - 0x20] : kinds_[95];
}

void PlainLineEncoder::Append(const core::PlainRow& row, std::string* out) {
  if (row.palette != palette_) Analyse(row.palette);
  if (!exact_) return AppendHistoryLine(core::LayOut(row), out);
  // LineBody's steps, for cells that are all narrow and without links.
  const int width = std::min(palette_->cols, core::kMaxScreenDimension);
  // Columns up to the last one that is not a default blank; those beyond
  // the text hold the palette's blank.
  const int text_cols = static_cast<int>(std::min(row.text.size(), static_cast<size_t>(width)));
  int used = width;
  if (text_cols == width || kinds_[95].default_blank) {
    used = text_cols;
    while (used > 0 && KindAt(row.text, used - 1).default_blank) --used;
  }
  spans_.clear();
  for (int col = 0; col < used;) {
    const int style = KindAt(row.text, col).style;
    int end = col + 1;
    while (end < used && KindAt(row.text, end).style == style) ++end;
    spans_.push_back({col, end, style});
    col = end;
  }
  body_.clear();
  body_.push_back(kLineRecord);
  body_.push_back(0);  // not wrapped
  AppendVarint(&body_, static_cast<uint64_t>(width));
  AppendVarint(&body_, spans_.size());
  for (const Span& span : spans_) {
    body_.append(styles_[static_cast<size_t>(span.style)]);
    AppendVarint(&body_, static_cast<uint64_t>(span.end - span.begin));
    // Room for the longest tokens, written in place, then cut to size.
    const size_t at = body_.size();
    body_.resize(at + static_cast<size_t>(span.end - span.begin) * max_token_);
    char* out_at = &body_[at];
    for (int col = span.begin; col < span.end; ++col) {
      const std::string& token = KindAt(row.text, col).token;
      if (token.size() == 1) {
        *out_at++ = token[0];
      } else {
        memcpy(out_at, token.data(), token.size());
        out_at += token.size();
      }
    }
    body_.resize(static_cast<size_t>(out_at - body_.data()));
  }
  // No links, so LineBody's second try without them would give the same.
  AppendVarint(out, body_.size());
  out->append(body_);
}

void AppendHistoryGap(uint64_t count, std::string* out) {
  if (count == 0) return;
  std::string body;
  body.push_back(kGapRecord);
  AppendVarint(&body, count);
  AppendVarint(out, body.size());
  out->append(body);
}

std::string HistoryGapText(uint64_t count) {
  std::string digits = absl::StrCat(count);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return absl::StrCat("[moshx: ", grouped, count == 1 ? " line" : " lines", " not kept]");
}

absl::Status DecodeHistoryRecord(absl::string_view body, HistoryRecord* record) {
  Reader r{body};
  const uint8_t kind = r.Byte();
  if (!r.ok) return Malformed("empty");
  if (kind == kGapRecord) {
    const uint64_t count = r.Varint();
    if (!r.ok || count == 0) return Malformed("bad gap count");
    if (!r.in.empty()) return Malformed("bytes after a gap");
    record->line.reset();
    record->lines_not_kept = count;
    return absl::OkStatus();
  }
  if (kind != kLineRecord) return Malformed("unknown record type");
  const uint8_t flags = r.Byte();
  const uint64_t width = r.Varint();
  if (!r.ok || flags > 1 || width < 1 || width > static_cast<uint64_t>(core::kMaxScreenDimension)) {
    return Malformed("bad line header");
  }
  core::Row row(static_cast<int>(width));
  row.set_wrapped(flags & 1);
  const uint64_t span_count = r.Varint();
  if (!r.ok || span_count > width) return Malformed("bad span count");
  uint64_t col = 0;
  for (uint64_t s = 0; s < span_count; ++s) {
    core::Renditions rend;
    rend.attributes = r.Byte();
    if (!r.Color(&rend.fg) || !r.Color(&rend.bg)) return Malformed("bad colour");
    std::shared_ptr<const core::Hyperlink> link;
    const uint8_t has_link = r.Byte();
    if (!r.ok || has_link > 1) return Malformed("bad link flag");
    if (has_link) {
      auto h = std::make_shared<core::Hyperlink>();
      const uint64_t id_len = r.Varint();
      if (!r.ok || id_len > kMaxHistoryLinkBytes) return Malformed("bad link id");
      h->id = std::string(r.Bytes(id_len));
      const uint64_t uri_len = r.Varint();
      if (!r.ok || uri_len == 0 || uri_len > kMaxHistoryLinkBytes) return Malformed("bad link uri");
      h->uri = std::string(r.Bytes(uri_len));
      if (!r.ok || !IsPrintableUtf8(h->id) || !IsPrintableUtf8(h->uri) ||
          h->id.find_first_of(";:") != std::string::npos) {
        return Malformed("bad link");
      }
      link = std::move(h);
    }
    const uint64_t cells = r.Varint();
    if (!r.ok || cells == 0 || cells > width - col) return Malformed("bad cell count");
    for (uint64_t i = 0; i < cells; ++i) {
      const uint8_t t = r.Byte();
      if (!r.ok) return Malformed("truncated cells");
      core::Cell cell;
      cell.renditions = rend;
      cell.link = link;
      if (t == kOtherToken) {
        const uint8_t w = r.Byte();
        const uint64_t len = r.Varint();
        if (!r.ok || (w != 1 && w != 2) || len == 0 || len > core::kMaxCellTextBytes) {
          return Malformed("bad grapheme");
        }
        cell.text = std::string(r.Bytes(len));
        if (!r.ok || !IsCanonicalGrapheme(cell.text)) return Malformed("bad grapheme text");
        if (w == 2 && col + 1 >= width) return Malformed("wide character in the last column");
        cell.width = w;
      } else if (t >= 0x20 && t < 0x7f) {
        if (t != 0x20) cell.text = std::string(1, static_cast<char>(t));
      } else {
        return Malformed("bad cell token");
      }
      if (col >= width) return Malformed("too many cells");
      const int advance = cell.width == 2 ? 2 : 1;
      row.Set(static_cast<int>(col), std::move(cell));
      col += advance;
    }
  }
  if (!r.in.empty()) return Malformed("bytes after a line");
  record->line = std::move(row);
  record->lines_not_kept = 0;
  return absl::OkStatus();
}

absl::Status HistoryDecoder::Push(absl::string_view bytes, std::vector<HistoryRecord>* out) {
  if (!status_.ok()) return status_;
  buffer_.append(bytes.data(), bytes.size());
  absl::string_view rest = buffer_;
  while (!rest.empty()) {
    absl::string_view probe = rest;
    uint64_t length = 0;
    if (!ReadVarint(&probe, &length)) {
      // An incomplete varint is at most 9 bytes; more is malformed.
      if (rest.size() >= 10) status_ = Malformed("bad length");
      break;
    }
    if (length == 0 || length > kMaxHistoryRecordBytes) {
      status_ = Malformed("bad length");
      break;
    }
    if (probe.size() < length) break;
    HistoryRecord record;
    if (absl::Status s = DecodeHistoryRecord(probe.substr(0, length), &record); !s.ok()) {
      status_ = s;
      break;
    }
    out->push_back(std::move(record));
    probe.remove_prefix(length);
    rest = probe;
  }
  if (!status_.ok()) {
    buffer_.clear();
    return status_;
  }
  buffer_.erase(0, buffer_.size() - rest.size());
  return absl::OkStatus();
}

}  // namespace moshx::protocol
