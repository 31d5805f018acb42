#include "cmd/server/history_sender.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cmd/client/history_receiver.h"
#include "core/protocol/history.h"
#include "gtest/gtest.h"
#include "net/stream/testing/sim_link.h"
#include "net/testing/simulated_network.h"

namespace moshx::cmd {
namespace {

using net::stream::testing::SimLink;
using net::testing::LinkParams;
using net::testing::SimulatedNetwork;

std::string RowText(const core::Row& row) {
  std::string s;
  for (const core::Cell& c : row.cells()) s += c.text.empty() ? " " : c.text;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The records a plain flood's kept lines become, encoded from their text
// (Emulator::TakeScrollback's PlainRows and protocol::PlainLineEncoder, what
// HistorySender does), are byte for byte those of the rows the emulator
// without its plain-text fast path keeps, whatever the pen, screen or
// character set.
TEST(HistoryRecordsTest, APlainFloodsRecordsFromItsTextAreThoseOfThePlainPath) {
  const char* const kSetups[] = {
      "",
      "\x1b[1;3;4;31;44m",
      "\x1b[38;2;10;20;30;48;5;200m",
      "\x1b[7m\x1b[?5h",  // reverse, and reverse video
      "\x1b[44m\x1b[2J",  // a coloured background erased in
      "\x1b(0",            // DEC graphics
      "\x1b[8m",           // concealed
  };
  uint64_t plain_lines = 0;
  for (uint64_t seed = 1; seed <= 14; ++seed) {
    std::mt19937_64 rng(seed * 104729);
    const int width = 8 + static_cast<int>(rng() % 120);
    const int height = 2 + static_cast<int>(rng() % 40);
    std::string stream = kSetups[seed % (sizeof(kSetups) / sizeof(kSetups[0]))];
    for (int i = 0; i < 4000; ++i) {
      const int len = static_cast<int>(rng() % (width + 1));
      for (int k = 0; k < len; ++k) stream.push_back(static_cast<char>(0x20 + rng() % 95));
      if (rng() % 10 == 0) stream += "\r" + std::string(rng() % 5, '#');
      stream += "\r\n";
    }
    std::string fast, slow;
    for (bool fast_path : {true, false}) {
      term::Emulator::Options options;
      options.scrollback_lines = 100000;
      options.plain_text_fast_path = fast_path;
      term::Emulator emulator(width, height, options);
      for (size_t at = 0; at < stream.size(); at += 20000) {
        (void)emulator.Feed(absl::string_view(stream).substr(at, 20000));
      }
      if (fast_path) {
        protocol::PlainLineEncoder encoder;
        emulator.TakeScrollback(SIZE_MAX, [&](core::Row* row, const core::PlainRow* plain) {
          if (plain != nullptr) {
            encoder.Append(*plain, &fast);
            ++plain_lines;
          } else {
            protocol::AppendHistoryLine(*row, &fast);
          }
        });
      } else {
        for (const core::Row& row : emulator.TakeScrollback()) {
          protocol::AppendHistoryLine(row, &slow);
        }
      }
    }
    ASSERT_EQ(fast, slow) << "seed " << seed;
  }
  EXPECT_GT(plain_lines, 20000u);  // most lines took the text path
}

// A server emulator and history sender, a client receiver, on a simulated
// link; the client checks every line against its number.
class HistoryStreamTest : public ::testing::Test {
 protected:
  void Make(const LinkParams& params, size_t scrollback_lines, int width = 20, int height = 5) {
    link_ = std::make_unique<SimLink>(&net_, params);
    // The server learns the client's address from its first datagram, as
    // an association does.
    while (!link_->client_end->SendTerminal("hello").ok()) {
    }
    net_.RunFor(absl::Seconds(1));
    term::Emulator::Options options;
    options.scrollback_lines = scrollback_lines;
    emulator_ = std::make_unique<term::Emulator>(width, height, options);
    receiver_ = std::make_unique<HistoryReceiver>(
        link_->client.get(), [this](protocol::HistoryRecord r) { records_.push_back(std::move(r)); });
    link_->client->set_incoming_handler([this](net::stream::StreamId id) {
      if (id == protocol::kHistoryStreamId) receiver_->Attach(id);
    });
    sender_ = std::make_unique<HistorySender>(link_->server.get(), emulator_.get(), &net_, &net_,
                                              scrollback_lines);
  }

  // Runs `net` until `done` (or `limit`), pumping the sender again while it
  // has more, as the server's loop does (HistorySender::has_more).
  static bool Run(SimulatedNetwork& net, HistorySender* sender, const std::function<bool()>& done,
                  absl::Duration limit) {
    return net.RunUntil(
        [&] {
          while (sender != nullptr && sender->has_more()) sender->Pump();
          return done();
        },
        limit);
  }
  bool Run(const std::function<bool()>& done, absl::Duration limit) {
    return Run(net_, sender_.get(), done, limit);
  }
  void RunFor(absl::Duration d) { (void)Run([] { return false; }, d); }

  // Prints lines first..last ("N\r\n" each) in pieces of `per_feed` lines.
  void Print(int first, int last, int per_feed) {
    for (int i = first; i <= last;) {
      std::string chunk;
      for (int k = 0; k < per_feed && i <= last; ++k, ++i) absl::StrAppend(&chunk, i, "\r\n");
      (void)emulator_->Feed(chunk);
      sender_->Pump();
    }
  }

  // Checks that the records number the lines 1..n in order: line k of the
  // history shows "k", a gap of N skips N numbers. Returns the numbers seen.
  std::vector<int> CheckNumbered(uint64_t scrolled) {
    std::vector<int> seen;
    uint64_t next = 1;
    for (const protocol::HistoryRecord& r : records_) {
      if (!r.line.has_value()) {
        next += r.lines_not_kept;
        continue;
      }
      EXPECT_EQ(RowText(*r.line), absl::StrCat(next)) << "record " << seen.size();
      seen.push_back(static_cast<int>(next));
      ++next;
    }
    EXPECT_EQ(next - 1, scrolled);
    return seen;
  }

  // Runs until each of the `scrolled` lines was received or counted as not
  // kept; checks that the history is one gap, then the newest `kept` lines.
  void ExpectOneGapThenTheNewest(uint64_t scrolled, size_t kept) {
    ASSERT_TRUE(Run(
        [&] { return receiver_->lines() + receiver_->lines_not_kept() == scrolled; },
        absl::Seconds(30)));
    std::vector<int> seen = CheckNumbered(scrolled);
    ASSERT_EQ(seen.size(), kept);
    EXPECT_EQ(seen.front(), static_cast<int>(scrolled - kept + 1));
    ASSERT_EQ(records_.size(), kept + 1);
    EXPECT_FALSE(records_.front().line.has_value());
  }

  SimulatedNetwork net_{/*seed=*/5};
  std::unique_ptr<SimLink> link_;
  std::unique_ptr<term::Emulator> emulator_;
  std::unique_ptr<HistoryReceiver> receiver_;
  std::unique_ptr<HistorySender> sender_;
  std::vector<protocol::HistoryRecord> records_;
};

LinkParams Lossy(double loss) {
  LinkParams p;
  p.delay = absl::Milliseconds(100);  // 200 ms round trip
  p.loss = loss;
  p.rate_bits_per_second = 2e6;
  p.queue_bytes = 50 * 1000;
  return p;
}

TEST_F(HistoryStreamTest, EveryLineOnceInOrderAtTenPercentLoss) {
  Make(Lossy(0.10), 10000);
  // 5000 lines, some in bursts, some one by one with time passing between.
  Print(1, 3000, 200);
  RunFor(absl::Milliseconds(300));
  for (int i = 3001; i <= 5000; i += 50) {
    Print(i, i + 49, 7);
    RunFor(absl::Milliseconds(20));
  }
  const uint64_t scrolled = 5000 - 4;  // the last four lines and the cursor's row stay
  ASSERT_TRUE(Run([&] { return receiver_->lines() == scrolled; }, absl::Seconds(120)))
      << receiver_->lines() << " " << link_->server->DebugString();
  RunFor(absl::Seconds(1));
  std::vector<int> seen = CheckNumbered(scrolled);
  EXPECT_EQ(seen.size(), scrolled);
  EXPECT_EQ(receiver_->lines_not_kept(), 0u);
  EXPECT_TRUE(receiver_->status().ok());
  EXPECT_EQ(sender_->stats().lines_sent, scrolled);
  EXPECT_GT(link_->server->stats().packets_lost, 0u);
}

// The stream's send buffer holds what the link has not taken yet (numbers
// compress to about a byte a line, so that is many lines); beyond it, the
// emulator keeps the newest lines and counts the rest.
TEST_F(HistoryStreamTest, AFloodKeepsTheNewestLinesAfterAGap) {
  Make(Lossy(0.02), 1000);
  // 100000 lines at once: far more than the link carries meanwhile.
  Print(1, 100000, 2000);
  const uint64_t scrolled = 100000 - 4;
  ASSERT_TRUE(Run(
      [&] { return receiver_->lines() + receiver_->lines_not_kept() == scrolled; },
      absl::Seconds(120)));
  std::vector<int> seen = CheckNumbered(scrolled);
  // The history ends with the newest 1000 lines, after a gap.
  ASSERT_GE(seen.size(), 1000u);
  EXPECT_EQ(seen.back(), static_cast<int>(scrolled));
  EXPECT_EQ(seen[seen.size() - 1000], static_cast<int>(scrolled) - 999);
  EXPECT_GT(receiver_->lines_not_kept(), 10000u);
  // The queue on the server held encoded lines, a few bytes each.
  EXPECT_EQ(sender_->queued_lines(), 0u);
  ASSERT_FALSE(records_.empty());
  EXPECT_FALSE(records_[records_.size() - 1001].line.has_value());  // the gap before them
  EXPECT_EQ(sender_->stats().lines_not_kept, receiver_->lines_not_kept());
}

// A flood faster than max_lines per kHoldTime keeps only its newest
// max_lines lines even on a link that could carry every line: the rest are
// dropped unencoded (HistorySender's "Hold").
TEST_F(HistoryStreamTest, AFloodOnAFastLinkKeepsOnlyItsNewestLines) {
  Make(LinkParams{}, 1000);
  // 100000 lines, 2000 every millisecond (two million a second).
  for (int i = 1; i <= 100000; i += 2000) {
    Print(i, i + 1999, 2000);
    RunFor(absl::Milliseconds(1));
  }
  const uint64_t scrolled = 100000 - 4;
  ExpectOneGapThenTheNewest(scrolled, 1000);
  EXPECT_EQ(sender_->stats().lines_sent, 1000u);
  EXPECT_EQ(sender_->stats().lines_not_kept, scrolled - 1000);
}

// The same for a flood the emulator keeps as rows of cells (coloured, so no
// plain-text fast path): encoded into the queue past kMaxRowsWaiting, where
// they are held as well.
TEST_F(HistoryStreamTest, AColouredFloodOnAFastLinkKeepsOnlyItsNewestLines) {
  Make(LinkParams{}, 1000);
  // 20000 lines, 50 every millisecond (fifty thousand a second).
  for (int i = 1; i <= 20000;) {
    std::string chunk;
    for (int k = 0; k < 50; ++k, ++i) absl::StrAppend(&chunk, "\x1b[31m", i, "\x1b[m\r\n");
    (void)emulator_->Feed(chunk);
    sender_->Pump();
    RunFor(absl::Milliseconds(1));
  }
  ExpectOneGapThenTheNewest(20000 - 4, 1000);
  ASSERT_TRUE(records_.back().line.has_value());
  ASSERT_FALSE(records_.back().line->cells().empty());
  EXPECT_EQ(records_.back().line->cells()[0].renditions.fg, core::Color::Ansi(1));
}

// Output slower than max_lines per kHoldTime loses nothing; each line
// waits out its hold (and no longer) before it is sent.
TEST_F(HistoryStreamTest, OutputSlowerThanTheHoldLosesNothingAndWaitsItsHold) {
  Make(LinkParams{}, 1000);
  Print(1, 14, 14);  // 10 lines scroll off
  RunFor(HistorySender::kHoldTime - absl::Milliseconds(20));
  EXPECT_EQ(receiver_->lines(), 0u);
  EXPECT_EQ(sender_->held_lines(), 10u);
  RunFor(absl::Milliseconds(40) + absl::Milliseconds(20));  // the link's round trip
  EXPECT_EQ(receiver_->lines(), 10u);
  EXPECT_EQ(sender_->held_lines(), 0u);
  // 4000 lines a second (the hold passes 800 of them) for 2 seconds.
  for (int i = 15; i < 15 + 8000; i += 40) {
    Print(i, i + 39, 40);
    RunFor(absl::Milliseconds(10));
  }
  const uint64_t scrolled = 15 + 8000 - 1 - 4;
  ASSERT_TRUE(Run([&] { return receiver_->lines() == scrolled; }, absl::Seconds(30)));
  CheckNumbered(scrolled);
  EXPECT_EQ(receiver_->lines_not_kept(), 0u);
}

TEST_F(HistoryStreamTest, OrdinaryTextCostsFewWireBytesPerLine) {
  // 80-column lines of ordinary prose, printed 4 KiB at a time.
  Make(LinkParams{}, 10000, 80, 24);
  const char* words[] = {"the",   "server", "keeps",  "every", "line",   "that",    "scrolls",
                         "off",   "its",    "screen", "and",   "sends",  "it",      "to",
                         "a",     "client", "which",  "writes", "them", "into",  "local",
                         "terminal", "history", "so", "search", "works", "as", "with", "ssh"};
  uint32_t x = 1;
  std::string text;
  const int kLines = 2000;
  for (int i = 0; i < kLines; ++i) {
    std::string line;
    for (;;) {
      x = x * 1103515245 + 12345;
      const char* w = words[(x >> 16) % (sizeof(words) / sizeof(words[0]))];
      if (line.size() + 1 + std::string(w).size() > 80) break;
      if (!line.empty()) line += ' ';
      line += w;
    }
    text += line + "\r\n";
  }
  for (size_t pos = 0; pos < text.size(); pos += 4096) {
    (void)emulator_->Feed(absl::string_view(text).substr(pos, 4096));
    sender_->Pump();
  }
  ASSERT_TRUE(Run([&] { return receiver_->lines() == kLines - 23; }, absl::Seconds(60)));
  const double per_line = static_cast<double>(sender_->stats().wire_bytes) / (kLines - 23);
  EXPECT_LE(per_line, 40.0) << sender_->stats().wire_bytes;
  std::printf("history wire bytes per 80-column line of text: %.1f (records %.1f)\n", per_line,
              static_cast<double>(sender_->stats().record_bytes) / (kLines - 23));
}

// The client reads only while it has room (backpressure): the rest waits
// in the stream and on the server, and nothing is lost or repeated.
TEST_F(HistoryStreamTest, AReceiverThatPausesGetsEveryLineLater) {
  Make(LinkParams{}, 10000);
  bool open = false;
  receiver_->set_wants_more([&] { return open; });
  Print(1, 3000, 100);
  RunFor(absl::Seconds(2));
  EXPECT_EQ(receiver_->lines(), 0u);
  open = true;
  receiver_->Resume();
  ASSERT_TRUE(Run([&] { return receiver_->lines() == 3000 - 4; }, absl::Seconds(30)));
  CheckNumbered(3000 - 4);
}

// drained(): nothing waits and every byte is acknowledged; only then does
// ReleaseIdleBuffers give the buffers back (ServerSession calls it after a
// burst), and the stream goes on afterwards.
TEST_F(HistoryStreamTest, BuffersAreReleasedOnlyOnceDrained) {
  Make(LinkParams{}, 10000);
  EXPECT_TRUE(sender_->drained());
  Print(1, 3000, 100);
  EXPECT_FALSE(sender_->drained()) << "lines wait out their hold";
  ASSERT_TRUE(Run([&] { return receiver_->lines() == 3000 - 4; }, absl::Seconds(30)));
  RunFor(absl::Seconds(1));  // the last acknowledgements
  EXPECT_TRUE(sender_->drained());
  const size_t grown = link_->server->buffer_capacity();
  ASSERT_GT(grown, 0u) << "the burst grew the send buffer";
  Print(3001, 3100, 10);
  EXPECT_FALSE(sender_->drained());
  sender_->ReleaseIdleBuffers();  // not drained: nothing changes
  EXPECT_EQ(link_->server->buffer_capacity(), grown);
  ASSERT_TRUE(Run([&] { return receiver_->lines() == 3100 - 4; }, absl::Seconds(30)));
  RunFor(absl::Seconds(1));
  EXPECT_TRUE(sender_->drained());
  sender_->ReleaseIdleBuffers();
  EXPECT_EQ(link_->server->buffer_capacity(), 0u);
  // The stream goes on afterwards.
  Print(3101, 3200, 10);
  ASSERT_TRUE(Run([&] { return receiver_->lines() == 3200 - 4; }, absl::Seconds(30)));
  CheckNumbered(3200 - 4);
}

// A reader that wants a few hundred lines at a time (as the client's 500,
// ClientSession::kHistoryBacklog) decodes in small steps of at most
// HistoryReceiver::kDrainChunk bytes of records, so no single call holds the
// client's loop (and a key) long, and the rest waits compressed (issue 14).
TEST_F(HistoryStreamTest, AReceiverDecodesASmallBacklogInSmallSteps) {
  Make(LinkParams{}, 10000);
  constexpr size_t kWanted = 500;
  size_t at_last_check = 0, largest_step = 0;
  receiver_->set_wants_more([&] {
    largest_step = std::max(largest_step, records_.size() - at_last_check);
    at_last_check = records_.size();
    return records_.size() < kWanted;
  });
  Print(1, 5000, 1000);
  RunFor(absl::Seconds(2));
  // Short numbered lines take a few bytes each: a step is a few hundred.
  EXPECT_GT(largest_step, 0u);
  EXPECT_LT(largest_step, 1000u);
  EXPECT_GE(records_.size(), kWanted);
  EXPECT_LE(records_.size(), kWanted + largest_step);
  receiver_->set_wants_more([] { return true; });
  receiver_->Resume();
  ASSERT_TRUE(Run([&] { return receiver_->lines() == 5000 - 4; }, absl::Seconds(30)));
  CheckNumbered(5000 - 4);
}

TEST_F(HistoryStreamTest, ScrollbackOffSendsNothing) {
  Make(LinkParams{}, 0);
  Print(1, 100, 10);
  RunFor(absl::Seconds(5));
  EXPECT_EQ(link_->server->stats().frames_sent, 0u);
  EXPECT_FALSE(receiver_->attached());
  EXPECT_TRUE(records_.empty());
  EXPECT_EQ(emulator_->pending_scrollback(), 0u);
}

// With scrollback off id 1 is still the history's: the server's next
// stream (a forwarded -R/-A connection) gets id 3 and its bytes reach the
// client on id 3; stream 1 opens there implicitly, empty.
TEST_F(HistoryStreamTest, ScrollbackOffStillKeepsIdOneForTheHistory) {
  Make(LinkParams{}, 0);
  std::vector<net::stream::StreamId> incoming;
  link_->client->set_incoming_handler([&](net::stream::StreamId id) {
    incoming.push_back(id);
    if (id == protocol::kHistoryStreamId) receiver_->Attach(id);
  });
  absl::StatusOr<net::stream::StreamId> forwarded = link_->server->Open();
  ASSERT_TRUE(forwarded.ok());
  EXPECT_EQ(*forwarded, 3u);
  ASSERT_EQ(link_->server->Write(*forwarded, "forwarded bytes"), 15u);
  RunFor(absl::Seconds(2));
  ASSERT_FALSE(incoming.empty());
  EXPECT_EQ(incoming.back(), 3u);
  EXPECT_EQ(link_->client->Read(3, 100), "forwarded bytes");
  EXPECT_TRUE(records_.empty());
  EXPECT_TRUE(receiver_->status().ok());
}

// 40000 lines of 90 random letters printed `per_feed` at a time, to a
// client that reads nothing; with `pump`, the sender is pumped after each
// Feed (so the stream's windows fill, at about 55 bytes a line), else not
// at all (as if they were full). With `bold_first`, each line's first
// letter is bold (two pens: a line the emulator keeps as a row of cells
// when it scrolls off one at a time). The backlog is left for the test to
// check; ReadAgain() then checks that the newest 1000 lines follow, after
// one gap, each once and in order.
class HistoryBacklogTest : public HistoryStreamTest {
 protected:
  void Flood(int per_feed, bool pump, bool bold_first = false) {
    Make(LinkParams{}, 1000, /*width=*/100);
    receiver_->set_wants_more([this] { return open_; });
    uint32_t x = 3;
    std::string chunk;
    for (int i = 0; i < kLines; ++i) {
      std::string line;
      for (int k = 0; k < 90; ++k) {
        x = x * 1103515245 + 12345;
        line.push_back(static_cast<char>('a' + (x >> 16) % 26));
      }
      printed_.push_back(line);
      chunk += bold_first ? "\x1b[1m" + line.substr(0, 1) + "\x1b[m" + line.substr(1) : line;
      chunk += "\r\n";
      if ((i + 1) % per_feed == 0) {
        (void)emulator_->Feed(chunk);
        chunk.clear();
        if (pump) {
          sender_->Pump();
          RunFor(absl::Milliseconds(10));
        }
      }
    }
    if (pump) RunFor(absl::Seconds(2));
    sent_ = sender_->stats().lines_sent;
    EXPECT_EQ(sender_->queued_lines() + emulator_->pending_scrollback(), 1000u);
  }

  void ReadAgain() {
    open_ = true;
    receiver_->Resume();
    const uint64_t scrolled = kLines - 4;
    ASSERT_TRUE(Run([&] { return receiver_->lines() + receiver_->lines_not_kept() == scrolled; },
                    absl::Seconds(30)));
    EXPECT_EQ(receiver_->lines(), sent_ + 1000);
    ASSERT_GE(records_.size(), 1001u);
    EXPECT_FALSE(records_[records_.size() - 1001].line.has_value());  // the gap
    for (size_t i = 0; i < 1000; ++i) {
      const protocol::HistoryRecord& r = records_[records_.size() - 1000 + i];
      ASSERT_TRUE(r.line.has_value());
      EXPECT_EQ(RowText(*r.line), printed_[scrolled - 1000 + i]) << i;
    }
  }

  static constexpr int kLines = 40000;
  bool open_ = false;
  std::vector<std::string> printed_;
  uint64_t sent_ = 0;
};

// A plain-text flood's backlog waits in the emulator as text: nothing of it
// is laid out or encoded until the stream has room.
TEST_F(HistoryBacklogTest, APlainTextBacklogWaitsInTheEmulatorUnencoded) {
  Flood(/*per_feed=*/2000, /*pump=*/false);
  EXPECT_EQ(sender_->queued_lines(), 0u);
  EXPECT_EQ(emulator_->pending_scrollback(), 1000u);
  EXPECT_LT(emulator_->pending_scrollback_rows(), 10u);
  ReadAgain();
}

// Lines the emulator holds as rows of cells (here: one line per Feed, so
// no fast path, and two pens a line) are encoded once more than
// kMaxRowsWaiting wait: the backlog stays small in memory.
TEST_F(HistoryBacklogTest, ABacklogOfRowsIsEncodedPastAFewHundred) {
  Flood(/*per_feed=*/1, /*pump=*/true, /*bold_first=*/true);
  EXPECT_GT(sent_, 1000u);  // what filled the windows
  EXPECT_LT(sent_, static_cast<uint64_t>(kLines) - 1000);
  EXPECT_LE(emulator_->pending_scrollback_rows(), HistorySender::kMaxRowsWaiting);
  EXPECT_GE(sender_->queued_lines(), 1000u - HistorySender::kMaxRowsWaiting);
  // A record of a bold letter and 89 plain ones: about 105 bytes.
  EXPECT_LE(sender_->queued_bytes(), 1000u * 110);
  ReadAgain();
}

// A re-attach (moshx connect --history N): the new association's sender
// starts with the ring's newest N lines, including those the old sender had
// queued but not sent, then live lines: on the new stream each line once,
// in order, numbered without a gap.
TEST_F(HistoryStreamTest, AReattachedClientGetsTheNewestLinesThenLiveOnes) {
  Make(Lossy(0.05), 10000);
  HistoryRing ring(10000);
  sender_ = std::make_unique<HistorySender>(link_->server.get(), emulator_.get(), &net_, &net_,
                                            10000, &ring);
  Print(1, 3000, 100);
  RunFor(absl::Seconds(2));
  Print(3001, 3200, 100);  // queued or in flight on the old stream when the attach comes
  // The old client is gone; a new association on a new link.
  sender_.reset();
  SimulatedNetwork net2{/*seed=*/6};
  SimLink second(&net2, Lossy(0.05));
  while (!second.client_end->SendTerminal("hello").ok()) {
  }
  net2.RunFor(absl::Seconds(1));
  std::vector<protocol::HistoryRecord> got;
  HistoryReceiver receiver(second.client.get(),
                           [&got](protocol::HistoryRecord r) { got.push_back(std::move(r)); });
  second.client->set_incoming_handler([&receiver](net::stream::StreamId id) {
    if (id == protocol::kHistoryStreamId) receiver.Attach(id);
  });
  // Print() pumps sender_: the new one (reset before `second` goes).
  sender_ = std::make_unique<HistorySender>(second.server.get(), emulator_.get(), &net2, &net2,
                                            10000, &ring, /*replay_lines=*/1000);
  sender_->Pump();
  Print(3201, 3500, 50);
  for (int i = 0; i < 50; ++i) {
    sender_->Pump();
    (void)Run(net2, sender_.get(), [] { return false; }, absl::Milliseconds(100));
  }
  const uint64_t scrolled = 3500 - 4;
  const uint64_t at_attach = 3200 - 4;
  ASSERT_TRUE(Run(net2, sender_.get(), [&] { return receiver.lines() == 1000 + (scrolled - at_attach); },
                            absl::Seconds(60)))
      << receiver.lines();
  ASSERT_EQ(got.size(), 1000 + (scrolled - at_attach));
  uint64_t next = at_attach - 999;
  for (const protocol::HistoryRecord& r : got) {
    ASSERT_TRUE(r.line.has_value()) << "a gap at " << next;
    EXPECT_EQ(RowText(*r.line), absl::StrCat(next));
    ++next;
  }
  EXPECT_EQ(next - 1, scrolled);
  EXPECT_EQ(ring.size(), scrolled);
  sender_.reset();
}

TEST(HistoryRingTest, KeepsTheNewestLinesUpToItsCapacityAndTheFirstReplayedHasNoGap) {
  HistoryRing ring(3);
  ring.Add(0, "a");
  ring.Add(5, "b");
  ring.Add(0, "c");
  ring.Add(2, "d");
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.bytes(), 3u);
  std::vector<HistoryRing::Line> all = ring.Newest(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].record, "b");
  EXPECT_EQ(all[0].gap_before, 0u);  // what came before the replay is not shown
  EXPECT_EQ(all[2].record, "d");
  EXPECT_EQ(all[2].gap_before, 2u);  // gaps inside the replay are
  EXPECT_EQ(ring.Newest(1)[0].record, "d");
  EXPECT_TRUE(ring.Newest(0).empty());
  HistoryRing off(0);
  off.Add(0, "x");
  EXPECT_EQ(off.size(), 0u);
  EXPECT_EQ(HistoryRing(HistoryRing::kMaxLines + 5).Newest(1).size(), 0u);
}

TEST(LineQueueTest, PopsInOrderWithGapsAddedToTheFrontAcrossBlocks) {
  LineQueue q;
  for (int i = 0; i < 1000; ++i) q.PushBack(i % 7 == 0 ? i + 1 : 0, std::string(40, 'a' + i % 26));
  EXPECT_EQ(q.size(), 1000u);
  EXPECT_EQ(q.bytes(), 40000u);
  EXPECT_EQ(q.front_gap(), 1u);
  q.AddToFrontGap(5);
  EXPECT_EQ(q.Newest(1000).front().gap_before, 6u);
  std::string out = "x";
  EXPECT_EQ(q.PopFront(&out), 6u);
  EXPECT_EQ(out, "x" + std::string(40, 'a'));
  for (int i = 1; i < 1000; ++i) {
    ASSERT_EQ(q.front_gap(), i % 7 == 0 ? static_cast<uint64_t>(i + 1) : 0u) << i;
    std::string record;
    EXPECT_EQ(q.PopFront(&record), i % 7 == 0 ? static_cast<uint64_t>(i + 1) : 0u);
    ASSERT_EQ(record, std::string(40, 'a' + i % 26)) << i;
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.allocated_bytes(), 0u);  // every block given back
  q.PushBack(3, "again");
  EXPECT_EQ(q.Newest(5).size(), 1u);
  EXPECT_EQ(q.Newest(5)[0].gap_before, 3u);
}

TEST(HistoryRingTest, AFullRingCostsAboutItsRecordsAcrossManyBlocks) {
  // 30,000 lines through a ring of 10,000: records of 10 to 90 bytes (a
  // `seq` line to a line of text), a gap now and then, the oldest dropped
  // block by block. A std::string per line cost 40-50 bytes more a line.
  HistoryRing ring(HistoryRing::kMaxLines);
  std::vector<HistoryRing::Line> want;
  for (uint64_t i = 0; i < 30000; ++i) {
    const std::string record(10 + i % 81, static_cast<char>('a' + i % 26));
    const uint64_t gap = i % 997 == 0 ? i : 0;
    ring.Add(gap, record);
    want.push_back({gap, record});
  }
  ASSERT_EQ(ring.size(), HistoryRing::kMaxLines);
  std::vector<HistoryRing::Line> got = ring.Newest(HistoryRing::kMaxLines);
  ASSERT_EQ(got.size(), HistoryRing::kMaxLines);
  size_t bytes = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    const HistoryRing::Line& w = want[want.size() - got.size() + k];
    ASSERT_EQ(got[k].record, w.record) << k;
    EXPECT_EQ(got[k].gap_before, k == 0 ? 0 : w.gap_before) << k;
    bytes += w.record.size();
  }
  EXPECT_EQ(ring.bytes(), bytes);
  // Records, 4 bytes of header each, and at most two partly used blocks.
  EXPECT_LE(ring.allocated_bytes(), bytes + 4 * got.size() + 2 * LineQueue::kBlockBytes +
                                        12 * (got.size() / 997 + 1));
  EXPECT_EQ(ring.Newest(3).back().record, want.back().record);
}

}  // namespace
}  // namespace moshx::cmd
