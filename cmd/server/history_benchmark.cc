// history_benchmark: what scrollback costs the server (issue 14,
// docs/protocol.md §7.6). An 80x24 emulator keeping --scrollback 10000 lines
// and a HistorySender (with the session's HistoryRing) on a simulated link.
//
//   BM_FullHistoryMemory: the link never carries anything (a client that
//     stopped), so after 30000 lines of ordinary text the sender's queue and
//     the ring are full (10000 lines each). Counters:
//       heap_mb_above_empty  heap in use (mallinfo2) above the same objects
//                            before any output: the goal is <= 8 MB
//       queued_lines, ring_lines
//   BM_WireBytesPerLine: 4000 lines of ordinary text over a clean link;
//     counter wire_bytes_per_line (compressed, stream payload): goal <= 40.
//
// "Ordinary text": words drawn from a fixed vocabulary of common English
// words and code tokens, 60-80 columns a line (seeded, so runs compare).
#include <malloc.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cmd/client/history_receiver.h"
#include "cmd/server/history_sender.h"
#include "core/protocol/history.h"
#include "net/stream/testing/sim_link.h"
#include "net/testing/simulated_network.h"
#include "term/emulator.h"

namespace moshx::cmd {
namespace {

constexpr const char* kWords[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "return", "const", "int",
    "std::string", "nullptr", "error:", "warning:", "src/main.cc:42:7", "INFO", "2026-12-06",
    "00:12:31", "request", "response", "status=200", "bytes", "user", "session", "connection",
    "timeout", "retry", "value", "buffer", "stream", "packet", "server", "client", "build",
    "test", "passed", "failed", "0x7ffd3a2c", "{", "}", "(", ")", ";", "=", "->", "#include",
    "<vector>", "template", "typename", "auto", "for", "while", "if", "else", "break"};

std::string OrdinaryLine(std::mt19937* rng) {
  std::uniform_int_distribution<int> width(60, 80);
  std::uniform_int_distribution<size_t> word(0, sizeof(kWords) / sizeof(kWords[0]) - 1);
  const size_t target = static_cast<size_t>(width(*rng));
  std::string line;
  while (true) {
    const std::string w = kWords[word(*rng)];
    if (line.size() + w.size() + 1 > target) break;
    if (!line.empty()) line += ' ';
    line += w;
  }
  return line;
}

size_t HeapInUse() { return mallinfo2().uordblks; }

struct HistorySetup {
  explicit HistorySetup(const net::testing::LinkParams& params) : link(&net, params) {
    while (!link.client_end->SendTerminal("hello").ok()) {
    }
    net.RunFor(absl::Seconds(1));
    term::Emulator::Options options;
    options.scrollback_lines = 10000;
    emulator = std::make_unique<term::Emulator>(80, 24, options);
    ring = std::make_unique<HistoryRing>(10000);
    sender = std::make_unique<HistorySender>(link.server.get(), emulator.get(), &net, &net, 10000,
                                              ring.get());
  }
  // Prints `lines` lines of ordinary text, 50 a Feed, pumping after each.
  void Print(int lines, std::mt19937* rng, bool run_network) {
    for (int i = 0; i < lines; i += 50) {
      std::string chunk;
      for (int k = 0; k < 50; ++k) absl::StrAppend(&chunk, OrdinaryLine(rng), "\r\n");
      (void)emulator->Feed(chunk);
      sender->Pump();
      if (run_network) net.RunFor(absl::Milliseconds(10));
    }
  }

  net::testing::SimulatedNetwork net{/*seed=*/3};
  net::stream::testing::SimLink link;
  std::unique_ptr<term::Emulator> emulator;
  std::unique_ptr<HistoryRing> ring;
  std::unique_ptr<HistorySender> sender;
};

net::testing::LinkParams Clean() {
  net::testing::LinkParams p;
  p.delay = absl::Milliseconds(10);
  p.rate_bits_per_second = 50e6;
  p.queue_bytes = 1000 * 1000;
  return p;
}

void BM_FullHistoryMemory(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    std::mt19937 rng(11);
    const size_t heap_before = HeapInUse();
    auto setup = std::make_unique<HistorySetup>(Clean());
    // From now on nothing arrives (a client that stopped): time passes, so
    // every line's hold ends and the sender takes what the stream has room
    // for (HistorySender::kHoldTime).
    net::testing::LinkParams stopped = Clean();
    stopped.loss = 1.0;
    setup->net.SetLinks(setup->link.client_host, setup->link.server_host, stopped);
    const size_t heap_empty = HeapInUse();
    state.ResumeTiming();
    setup->Print(30000, &rng, /*run_network=*/true);
    state.PauseTiming();
    const size_t heap_full = HeapInUse();
    state.counters["heap_mb_above_empty"] = (heap_full - heap_empty) / 1e6;
    state.counters["heap_mb_empty_session"] = (heap_empty - heap_before) / 1e6;
    state.counters["queued_lines"] = static_cast<double>(setup->sender->queued_lines());
    state.counters["ring_lines"] = static_cast<double>(setup->ring->size());
    setup.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_FullHistoryMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_WireBytesPerLine(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    std::mt19937 rng(12);
    HistorySetup setup(Clean());
    // A client's reader: decodes and counts the lines.
    HistoryReceiver receiver(setup.link.client.get(), [](protocol::HistoryRecord) {});
    setup.link.client->set_incoming_handler([&receiver](net::stream::StreamId id) {
      if (id == protocol::kHistoryStreamId) receiver.Attach(id);
    });
    state.ResumeTiming();
    setup.Print(4000, &rng, /*run_network=*/true);
    setup.net.RunFor(absl::Seconds(5));
    state.PauseTiming();
    if (receiver.lines() != setup.sender->stats().lines_sent || receiver.lines() < 3900) {
      state.SkipWithError("the client did not get every line sent");
    }
    const HistorySender::Stats& s = setup.sender->stats();
    state.counters["lines_sent"] = static_cast<double>(s.lines_sent);
    state.counters["wire_bytes_per_line"] =
        s.lines_sent == 0 ? 0 : static_cast<double>(s.wire_bytes) / s.lines_sent;
    state.counters["record_bytes_per_line"] =
        s.lines_sent == 0 ? 0 : static_cast<double>(s.record_bytes) / s.lines_sent;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_WireBytesPerLine)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace moshx::cmd

BENCHMARK_MAIN();
