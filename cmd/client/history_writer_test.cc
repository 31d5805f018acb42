#include "cmd/client/history_writer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

protocol::HistoryRecord Line(const std::string& text) {
  core::Row row(10);
  for (size_t i = 0; i < text.size(); ++i) {
    core::Cell c;
    c.text = text.substr(i, 1);
    row.Set(static_cast<int>(i), c);
  }
  protocol::HistoryRecord r;
  r.line = row;
  return r;
}

protocol::HistoryRecord Gap(uint64_t n) {
  protocol::HistoryRecord r;
  r.lines_not_kept = n;
  return r;
}

std::vector<std::string> Texts(const std::vector<core::Row>& rows) {
  std::vector<std::string> out;
  for (const core::Row& row : rows) {
    std::string s;
    for (const core::Cell& c : row.cells()) s += c.text.empty() ? " " : c.text;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out.push_back(s);
  }
  return out;
}

TEST(HistoryWriterTest, HandsOutLinesAndGapMarkersInOrder) {
  HistoryWriter w;
  EXPECT_FALSE(w.has_pending());
  w.Add(Line("a"));
  w.Add(Gap(1234));
  w.Add(Gap(1));
  w.Add(Line("b"));
  EXPECT_EQ(w.pending_lines(), 2u);
  EXPECT_EQ(Texts(w.Take()),
            (std::vector<std::string>{"a", "[moshx: 1,235 lines not kept]", "b"}));
  EXPECT_FALSE(w.has_pending());
  EXPECT_TRUE(w.Take().empty());
  EXPECT_EQ(w.lines_taken(), 2u);
}

TEST(HistoryWriterTest, TakesAtMostWhatIsAskedOldestFirst) {
  HistoryWriter w;
  w.Add(Line("a"));
  w.Add(Gap(2));
  w.Add(Line("b"));
  EXPECT_EQ(Texts(w.Take(2)), (std::vector<std::string>{"a", "[moshx: 2 lines not kept]"}));
  EXPECT_EQ(w.pending_lines(), 1u);
  EXPECT_EQ(Texts(w.Take(5)), (std::vector<std::string>{"b"}));
  EXPECT_FALSE(w.has_pending());
}

// While the lines wait (the alternate screen shows), only the newest
// max_lines stay, after one marker counting every line dropped.
TEST(HistoryWriterTest, KeepsTheNewestLinesWhileTheyWait) {
  HistoryWriter w(3);
  w.Add(Line("1"));
  w.Add(Gap(10));
  for (int i = 12; i <= 20; ++i) w.Add(Line(std::to_string(i)));
  EXPECT_EQ(w.pending_lines(), 3u);
  // Dropped: 1, the 10 of the gap, 12..17.
  EXPECT_EQ(Texts(w.Take()),
            (std::vector<std::string>{"[moshx: 17 lines not kept]", "18", "19", "20"}));
}

}  // namespace
}  // namespace moshx::cmd
