// Emulator throughput on bulk output, in the shape mosh-server sees it: the
// pty is read in 16 KiB pieces, and a frame (Snapshot) is taken now and then.
//
//   bazel run -c opt //term:emulator_benchmark
//
// "bytes_per_second" is the figure to report (MB/s of pty output).
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "term/emulator.h"

namespace moshx::term {
namespace {

constexpr size_t kReadSize = 16384;  // what one pty read returns at most

// Under `bazel test` (the _smoke_test, whose figures mean nothing) the inputs
// are 100 times smaller, so the smoke test stays quick in fastbuild.
int Scale(int full) { return std::getenv("TEST_TMPDIR") ? full / 100 : full; }

// `seq 1 3000000` as a pty delivers it (onlcr: "\r\n" line ends), ~21 MB.
const std::string& SeqOutput() {
  static const std::string* out = [] {
    auto* s = new std::string;
    for (int i = 1; i <= Scale(3000000); ++i) absl::StrAppend(s, i, "\r\n");
    return s;
  }();
  return *out;
}

// `base64 /dev/urandom`-style noise: 76-column lines of random base64, 16 MiB.
const std::string& Base64Noise() {
  static const std::string* out = [] {
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::mt19937_64 rng(1);
    auto* s = new std::string;
    while (s->size() < static_cast<size_t>(Scale(16 << 20))) {
      for (int i = 0; i < 76; ++i) s->push_back(kAlphabet[rng() % 64]);
      s->append("\r\n");
    }
    return s;
  }();
  return *out;
}

// Feeds `data` in pty-sized reads; takes a Snapshot every `snapshot_every`
// reads (0 = never). With `scrollback` lines kept (the server's default
// --scrollback 10000), a flood's lines are held as the history sender holds
// them (HistorySender::kHoldTime: nothing is taken while it lasts), and the
// newest `scrollback` are taken (laid out) at the end, 16 at a time, as it
// then sends them.
void Feed(benchmark::State& state, const std::string& data,
          int snapshot_every, size_t scrollback = 0) {
  for (auto _ : state) {
    Emulator::Options options;
    options.scrollback_lines = scrollback;
    Emulator emulator(80, 24, options);
    int reads = 0;
    for (size_t pos = 0; pos < data.size(); pos += kReadSize) {
      std::string answers = emulator.Feed(absl::string_view(data).substr(pos, kReadSize));
      benchmark::DoNotOptimize(answers);
      if (snapshot_every > 0 && ++reads % snapshot_every == 0) {
        benchmark::DoNotOptimize(emulator.Snapshot());
      }
    }
    benchmark::DoNotOptimize(emulator.Snapshot());
    benchmark::DoNotOptimize(emulator.TakeLinesNotKept());
    // 16 at a time, as the history sender takes them.
    while (emulator.pending_scrollback() > 0) benchmark::DoNotOptimize(emulator.TakeScrollback(16));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(data.size()));
}

void BM_Seq(benchmark::State& state) { Feed(state, SeqOutput(), 0); }
void BM_SeqSnapshotEveryRead(benchmark::State& state) {
  Feed(state, SeqOutput(), 1);
}
void BM_SeqKeepingScrollback(benchmark::State& state) {
  Feed(state, SeqOutput(), 4, 10000);
}
void BM_Base64Noise(benchmark::State& state) { Feed(state, Base64Noise(), 0); }
void BM_Base64NoiseKeepingScrollback(benchmark::State& state) {
  Feed(state, Base64Noise(), 4, 10000);
}
void BM_Base64NoiseSnapshotEveryRead(benchmark::State& state) {
  Feed(state, Base64Noise(), 1);
}

// A Snapshot after one full-screen repaint (every row changed).
void BM_SnapshotFullScreen(benchmark::State& state) {
  Emulator emulator(80, 24);
  std::string screen = "\x1b[H";
  for (int y = 0; y < 24; ++y) {
    screen += "\x1b[1;32m" + std::string(40, 'x') + "\x1b[0m" + std::string(39, 'y') + "\r\n";
  }
  for (auto _ : state) {
    (void)emulator.Feed(screen);
    benchmark::DoNotOptimize(emulator.Snapshot());
  }
}

BENCHMARK(BM_Seq)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SeqSnapshotEveryRead)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SeqKeepingScrollback)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Base64Noise)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Base64NoiseKeepingScrollback)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Base64NoiseSnapshotEveryRead)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotFullScreen)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace moshx::term
