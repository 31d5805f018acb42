#include "core/protocol/history.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moshx::protocol {
namespace {

core::Cell Text(const std::string& text, core::Renditions r = {}) {
  core::Cell c;
  c.text = text;
  c.renditions = r;
  return c;
}

core::Row PlainRow(int width, const std::string& text) {
  core::Row row(width);
  for (size_t i = 0; i < text.size(); ++i) row.Set(static_cast<int>(i), Text(text.substr(i, 1)));
  return row;
}

std::vector<HistoryRecord> DecodeAll(const std::string& wire) {
  HistoryDecoder decoder;
  std::vector<HistoryRecord> out;
  EXPECT_TRUE(decoder.Push(wire, &out).ok());
  EXPECT_EQ(decoder.buffered(), 0u);
  return out;
}

TEST(HistoryTest, PlainLineRoundTripsAndCostsAboutItsText) {
  const core::Row row = PlainRow(80, "hello, world");
  std::string wire;
  AppendHistoryLine(row, &wire);
  // length, type, flags, width (2), one span (1 + 1 + 1 + 1 + 1 + count), 12 tokens.
  EXPECT_LE(wire.size(), 24u);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].line.has_value());
  EXPECT_EQ(*records[0].line, row);
}

TEST(HistoryTest, KeepsRenditionsLinksWideCharactersAndWrap) {
  core::Row row(20);
  core::Renditions red;
  red.fg = core::Color::Ansi(1);
  red.set(core::kBold, true);
  core::Renditions rgb;
  rgb.bg = core::Color::Rgb(1, 2, 3);
  rgb.fg = core::Color::Indexed(200);
  rgb.set(core::kUnderline, true);
  row.Set(0, Text("a", red));
  core::Cell wide = Text("\xe4\xb8\xad", rgb);  // columns 1-2
  wide.width = 2;
  row.Set(1, wide);
  row.Set(3, Text("e\xcc\x81"));          // e + combining acute
  auto link = std::make_shared<core::Hyperlink>(core::Hyperlink{"id1", "https://example.com/"});
  core::Cell linked = Text("L");
  linked.link = link;
  row.Set(4, linked);
  core::Cell blank_bg;
  blank_bg.renditions = core::Renditions::BackgroundOnly(core::Color::Ansi(4));
  row.Set(10, blank_bg);
  row.set_wrapped(true);
  std::string wire;
  AppendHistoryLine(row, &wire);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].line.has_value());
  EXPECT_EQ(*records[0].line, row);
  EXPECT_TRUE(records[0].line->wrapped());
  EXPECT_EQ(records[0].line->cell(2).width, 0);
}

TEST(HistoryTest, GapsAndTheirText) {
  std::string wire;
  AppendHistoryGap(0, &wire);
  EXPECT_TRUE(wire.empty());
  AppendHistoryGap(2987654, &wire);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].line.has_value());
  EXPECT_EQ(records[0].lines_not_kept, 2987654u);
  EXPECT_EQ(HistoryGapText(2987654), "[moshx: 2,987,654 lines not kept]");
  EXPECT_EQ(HistoryGapText(1), "[moshx: 1 line not kept]");
  EXPECT_EQ(HistoryGapText(999), "[moshx: 999 lines not kept]");
  EXPECT_EQ(HistoryGapText(1000), "[moshx: 1,000 lines not kept]");
}

TEST(HistoryTest, DecodesWhateverTheSplitOfTheBytes) {
  std::string wire;
  std::vector<core::Row> rows;
  for (int i = 0; i < 50; ++i) {
    rows.push_back(PlainRow(40, "line " + std::to_string(i)));
    AppendHistoryLine(rows.back(), &wire);
  }
  std::mt19937 rng(7);
  HistoryDecoder decoder;
  std::vector<HistoryRecord> out;
  for (size_t pos = 0; pos < wire.size();) {
    const size_t n = std::min<size_t>(wire.size() - pos, rng() % 7);
    ASSERT_TRUE(decoder.Push(absl::string_view(wire).substr(pos, n), &out).ok());
    pos += n;
  }
  ASSERT_EQ(out.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(*out[i].line, rows[i]) << i;
}

TEST(HistoryTest, ControlCharactersNeverReachTheReceiver) {
  // A cell whose text holds ESC (not possible from the emulator) goes as a
  // blank; a link with a control character is left out.
  core::Row row(10);
  core::Cell bad;
  bad.text = "\x1b";
  row.Set(0, bad);
  core::Cell linked = Text("x");
  linked.link = std::make_shared<core::Hyperlink>(core::Hyperlink{"", "http://a/\x07"});
  row.Set(1, linked);
  std::string wire;
  AppendHistoryLine(row, &wire);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].line->cell(0).text.empty());
  EXPECT_EQ(records[0].line->cell(1).text, "x");
  EXPECT_EQ(records[0].line->cell(1).link, nullptr);

  // The decoder refuses them outright.
  const std::string esc_token = std::string("\x01\x00\x05\x01", 4) +
                                std::string("\x00\x00\x00\x00", 4) + std::string("\x01\x00\x01\x01\x1b", 5);
  HistoryRecord record;
  EXPECT_FALSE(DecodeHistoryRecord(esc_token, &record).ok());
  const std::string c1 = std::string("\x01\x00\x05\x01", 4) + std::string("\x00\x00\x00\x00", 4) +
                         std::string("\x01\x00\x01\x02\xc2\x9b", 6);
  EXPECT_FALSE(DecodeHistoryRecord(c1, &record).ok());
  const std::string ok = std::string("\x01\x00\x05\x01", 4) + std::string("\x00\x00\x00\x00", 4) +
                         std::string("\x01\x00\x01\x02\xc3\xa9", 6);
  EXPECT_TRUE(DecodeHistoryRecord(ok, &record).ok());
  EXPECT_EQ(record.line->cell(0).text, "\xc3\xa9");
}

TEST(HistoryTest, AOneByteCellIsSentAsItselfExactlyWhenItIsPrintableAsciiOtherThanSpace) {
  for (int b = 0; b < 256; ++b) {
    core::Row row(4);
    core::Cell cell;
    cell.text = std::string(1, static_cast<char>(b));
    row.Set(1, cell);
    std::string wire;
    AppendHistoryLine(row, &wire);
    std::vector<HistoryRecord> records = DecodeAll(wire);
    ASSERT_EQ(records.size(), 1u) << b;
    const bool printable = b > 0x20 && b < 0x7f;
    EXPECT_EQ(records[0].line->cell(1).text, printable ? cell.text : "") << b;
  }
}

// A palette as the emulator makes them, and worse: glyphs that are other
// text (DEC graphics), blanks, unsendable text, several renditions, missing
// cells; with `odd`, sometimes a wide cell or a link (the encoder's
// fallback).
std::shared_ptr<const core::PlainPalette> RandomPalette(std::mt19937& rng, int cols, bool odd) {
  const core::Renditions styles[] = {
      {}, core::Renditions::BackgroundOnly(core::Color::Ansi(4)),
      [] { core::Renditions r; r.attributes = 1; return r; }(),
      [] { core::Renditions r; r.fg = core::Color::Rgb(1, 2, 3); return r; }(),
      [] { core::Renditions r; r.fg = core::Color::Indexed(200); r.attributes = 5; return r; }()};
  auto style = [&] { return styles[rng() % 5]; };
  auto palette = std::make_shared<core::PlainPalette>();
  palette->cols = cols;
  const core::Renditions pen = style();
  for (int c = 0x20; c < 0x7f; ++c) {
    std::optional<core::Cell>& glyph = palette->glyphs[static_cast<size_t>(c - 0x20)];
    switch (rng() % 12) {
      case 0: break;  // nullopt: a default blank
      case 1: glyph = Text("\xe2\x94\x80", pen); break;  // DEC graphics
      case 2: glyph = Text(" ", pen); break;
      case 3: glyph = Text("", style()); break;
      case 4: glyph = Text("\x1b", pen); break;  // not sendable
      case 5: glyph = Text(std::string(1, static_cast<char>(c)), style()); break;
      default: glyph = Text(std::string(1, static_cast<char>(c)), pen); break;
    }
    if (odd && glyph.has_value() && rng() % 40 == 0) {
      if (rng() % 2 == 0) {
        glyph->width = 2;
      } else {
        glyph->link = std::make_shared<core::Hyperlink>(core::Hyperlink{"", "http://x/"});
      }
    }
  }
  switch (rng() % 3) {
    case 0: break;
    case 1: palette->blank = Text("", pen); break;
    default: palette->blank = Text("", {}); break;
  }
  return palette;
}

TEST(HistoryTest, PlainLineEncoderIsByteForByteTheLaidOutRowsEncoding) {
  std::mt19937 rng(20261207);
  std::vector<std::shared_ptr<const core::PlainPalette>> palettes;
  for (int i = 0; i < 40; ++i) {
    const int cols = i == 0 ? core::kMaxScreenDimension + 3 : 1 + static_cast<int>(rng() % 200);
    palettes.push_back(RandomPalette(rng, cols, /*odd=*/i % 4 == 3));
  }
  PlainLineEncoder encoder;  // one for all: palettes come back after others
  for (int line = 0; line < 20000; ++line) {
    const core::PlainRow row{palettes[rng() % palettes.size()] , {}};
    std::string text;
    const size_t length = rng() % (static_cast<size_t>(row.palette->cols) + 6);
    for (size_t i = 0; i < length; ++i) {
      const unsigned r = rng() % 100;
      text.push_back(r < 8 ? '\0' : r < 10 ? static_cast<char>(rng() % 256)
                                             : static_cast<char>(0x20 + rng() % 95));
    }
    core::PlainRow plain = row;
    plain.text = text;
    std::string fast, slow;
    encoder.Append(plain, &fast);
    AppendHistoryLine(core::LayOut(plain), &slow);
    ASSERT_EQ(fast, slow) << "line " << line << " cols " << plain.palette->cols;
  }
}

TEST(HistoryTest, EveryDecodedLineIsCanonical) {
  // A grapheme token whose text starts with a combining mark (U+FE2D) or is a
  // lone space would make a row that Row::Validate refuses: the decoder
  // refuses it instead (the fuzzer's finding was U+FE2D).
  const std::string header = std::string("\x01\x00\x05\x01", 4) + std::string("\x00\x00\x00\x00", 4);
  HistoryRecord record;
  EXPECT_FALSE(DecodeHistoryRecord(header + std::string("\x01\x00\x01\x03\xef\xb8\xad", 7), &record).ok());
  EXPECT_FALSE(DecodeHistoryRecord(header + std::string("\x01\x00\x01\x01 ", 5), &record).ok());
  // A space or a letter with a combining mark is a canonical cell.
  ASSERT_TRUE(DecodeHistoryRecord(header + std::string("\x01\x00\x01\x03 \xcc\x81", 7), &record).ok());
  EXPECT_TRUE(record.line->Validate().ok());
  EXPECT_EQ(record.line->cell(0).text, " \xcc\x81");

  // Such cells (not made by the emulator) go as blanks, so the record decodes.
  core::Row row(4);
  row.Set(0, Text("\xef\xb8\xad"));
  row.Set(1, Text(" "));
  row.Set(2, Text("x"));
  std::string wire;
  AppendHistoryLine(row, &wire);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].line.has_value());
  EXPECT_TRUE(records[0].line->Validate().ok());
  EXPECT_TRUE(records[0].line->cell(0).text.empty());
  EXPECT_TRUE(records[0].line->cell(1).text.empty());
  EXPECT_EQ(records[0].line->cell(2).text, "x");
}

TEST(HistoryTest, MalformedStreamsFailForGood) {
  HistoryDecoder decoder;
  std::vector<HistoryRecord> out;
  EXPECT_FALSE(decoder.Push(std::string("\x02\x07\x00", 3), &out).ok());  // unknown type
  std::string good;
  AppendHistoryGap(3, &good);
  EXPECT_FALSE(decoder.Push(good, &out).ok());
  EXPECT_TRUE(out.empty());

  HistoryDecoder big;
  std::string huge_length;
  huge_length.push_back(static_cast<char>(0x80 | 0x01));
  huge_length.push_back(static_cast<char>(0x80));
  huge_length.push_back(static_cast<char>(0x80));
  huge_length.push_back(0x01);  // 2^21 + 1 > the bound
  EXPECT_FALSE(big.Push(huge_length, &out).ok());

  HistoryRecord record;
  EXPECT_FALSE(DecodeHistoryRecord(std::string("\x01\x00\x00\x00", 4), &record).ok());  // width 0
  EXPECT_FALSE(DecodeHistoryRecord(std::string("\x01\x00\x81\x08\x00", 5), &record).ok());  // 1025
  // A wide character in the last column.
  EXPECT_FALSE(DecodeHistoryRecord(std::string("\x01\x00\x01\x01\x00\x00\x00\x00\x01\x00\x02\x03"
                                               "\xe4\xb8\xad",
                                               15),
                                   &record)
                   .ok());
  // More cells than columns.
  EXPECT_FALSE(
      DecodeHistoryRecord(std::string("\x01\x00\x02\x01\x00\x00\x00\x00\x03xyz", 13), &record).ok());
}

TEST(HistoryTest, LinesWithManyLongLinksStillFitARecord) {
  core::Row row(core::kMaxScreenDimension);
  for (int col = 0; col < row.width(); ++col) {
    core::Cell c = Text("x");
    c.link = std::make_shared<core::Hyperlink>(
        core::Hyperlink{"", "http://e/" + std::string(4000, 'a' + col % 26)});
    row.Set(col, c);
  }
  std::string wire;
  AppendHistoryLine(row, &wire);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].line->cell(5).text, "x");
  EXPECT_EQ(records[0].line->cell(5).link, nullptr);
}

TEST(HistoryTest, WiderRowsAreCutToTheLargestScreen) {
  core::Row row = PlainRow(core::kMaxScreenDimension + 10, std::string(1034, 'q'));
  std::string wire;
  AppendHistoryLine(row, &wire);
  std::vector<HistoryRecord> records = DecodeAll(wire);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].line->width(), core::kMaxScreenDimension);
}

}  // namespace
}  // namespace moshx::protocol
