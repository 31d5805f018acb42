// Checks the golden diffs in testdata/diff/ (format: testdata/diff/README.md).
#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/diff.h"
#include "core/test_screens.h"
#include "gtest/gtest.h"

namespace moshx::core {
namespace {

constexpr char kDir[] = "testdata/diff";

struct GoldenCase {
  std::optional<Framebuffer> from;
  std::optional<Framebuffer> to;
  std::string expect;
};

int ToInt(absl::string_view s) {
  int value = -1;
  EXPECT_TRUE(absl::SimpleAtoi(s, &value)) << "not a number: " << s;
  return value;
}

// The renditions an SGR with these parameters selects (core::Apply parses).
Renditions ParseSgr(absl::string_view params) {
  absl::StatusOr<Framebuffer> fb =
      Apply(Framebuffer(1, 1), absl::StrCat("\x1b[", params, "mx"));
  EXPECT_TRUE(fb.ok()) << fb.status();
  return fb.ok() ? fb->cell(0, 0).renditions : Renditions();
}

// Applies one "key value" line to `fb`.
void ApplyScreenLine(absl::string_view line, Framebuffer* fb) {
  std::vector<absl::string_view> words =
      absl::StrSplit(line, absl::MaxSplits(' ', 1));
  const absl::string_view key = words[0];
  const absl::string_view value = words.size() > 1 ? words[1] : "";
  if (key == "cursor") {
    std::vector<absl::string_view> rc = absl::StrSplit(value, ' ');
    ASSERT_EQ(rc.size(), 2u) << line;
    fb->mutable_cursor()->row = ToInt(rc[0]);
    fb->mutable_cursor()->col = ToInt(rc[1]);
  } else if (key == "title") {
    fb->set_title(std::string(value));
    fb->set_icon_name(std::string(value));
  } else if (key == "icon") {
    fb->set_icon_name(std::string(value));
  } else if (key == "bells") {
    fb->set_bell_count(ToInt(value));
  } else if (key == "wrapped") {
    fb->MutableRow(ToInt(value))->set_wrapped(true);
  } else if (key == "hidden") {
    fb->mutable_cursor()->visible = false;
  } else if (key == "style" || key == "link") {
    // style <row> <col> <count> <SGR parameters> | link <row> <col> <count> <uri>
    std::vector<absl::string_view> args =
        absl::StrSplit(value, absl::MaxSplits(' ', 3));
    ASSERT_EQ(args.size(), 4u) << line;
    const int row = ToInt(args[0]), col = ToInt(args[1]), count = ToInt(args[2]);
    for (int x = col; x < col + count; ++x) {
      Cell cell = fb->cell(row, x);
      if (key == "style") {
        cell.renditions = ParseSgr(args[3]);
      } else {
        cell.link = std::make_shared<Hyperlink>(Hyperlink{"", std::string(args[3])});
      }
      fb->MutableRow(row)->Set(x, cell);
    }
  } else {
    ADD_FAILURE() << "unknown line: " << line;
  }
}

GoldenCase Parse(const std::string& text) {
  GoldenCase c;
  std::optional<Framebuffer>* screen = nullptr;
  int row = 0;
  bool in_expect = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (in_expect) {
      c.expect += std::string(line);
      continue;
    }
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    if (absl::StartsWith(line, "from ") || absl::StartsWith(line, "to ")) {
      std::vector<absl::string_view> w = absl::StrSplit(line, ' ');
      screen = w[0] == "from" ? &c.from : &c.to;
      screen->emplace(ToInt(w[1]), ToInt(w[2]));
      row = 0;
    } else if (line == "expect") {
      in_expect = true;
    } else if (absl::ConsumePrefix(&line, "|") && absl::ConsumeSuffix(&line, "|")) {
      testing::WriteText(&**screen, row++, line);
    } else if (screen != nullptr) {
      ApplyScreenLine(line, &**screen);
    }
  }
  return c;
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  DIR* dir = opendir(kDir);
  if (dir == nullptr) return files;
  while (dirent* entry = readdir(dir)) {
    if (absl::EndsWith(entry->d_name, ".golden")) {
      files.push_back(std::string(kDir) + "/" + entry->d_name);
    }
  }
  closedir(dir);
  return files;
}

TEST(DiffGoldenTest, MatchesEveryGoldenFile) {
  const std::vector<std::string> files = GoldenFiles();
  ASSERT_GE(files.size(), 8u) << "golden files missing from " << kDir;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    GoldenCase c = Parse(text.str());
    ASSERT_TRUE(c.from.has_value() && c.to.has_value());
    ASSERT_TRUE(c.from->Validate().ok()) << c.from->Validate();
    ASSERT_TRUE(c.to->Validate().ok()) << c.to->Validate();
    absl::StatusOr<std::string> expect = testing::UnescapeDiff(c.expect);
    ASSERT_TRUE(expect.ok()) << expect.status();
    const std::string diff = Diff(*c.from, *c.to);
    EXPECT_EQ(testing::EscapeDiff(diff), testing::EscapeDiff(*expect));
    Framebuffer start = *c.from;
    start.Resize(c.to->width(), c.to->height());
    absl::StatusOr<Framebuffer> applied = Apply(start, *expect);
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_TRUE(*applied == *c.to) << "got:\n" << testing::Describe(*applied)
                                   << "want:\n" << testing::Describe(*c.to);
  }
}

}  // namespace
}  // namespace moshx::core
