// Diff (and Apply) timings for typical frames at 80x24 and 200x60:
//   TypicalEdit  - three cells change on one line (rows shared otherwise);
//   FullRepaint  - an unrelated screen of random cells (80% filled, most
//                  with their own colours and attributes: an SGR per cell);
//   FullRepaintText - an unrelated screen of plain text;
//   Scroll       - the screen scrolls by one line and a new line appears.
// The `bytes` counter is the size of the diff.
#include <string>

#include "benchmark/benchmark.h"
#include "core/diff.h"
#include "core/test_screens.h"

namespace moshx::core {
namespace {

using testing::RandomScreen;
using testing::Rng;

Framebuffer TextScreen(Rng& rng, int w, int h) {
  Framebuffer fb(w, h);
  for (int y = 0; y < h; ++y) {
    std::string line;
    for (int x = 0; x < w - 5; ++x) line.push_back(static_cast<char>('a' + rng() % 26));
    testing::WriteText(&fb, y, line);
  }
  return fb;
}

void Run(benchmark::State& state, const Framebuffer& a, const Framebuffer& b) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string diff = Diff(a, b);
    bytes = diff.size();
    benchmark::DoNotOptimize(diff);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_DiffTypicalEdit(benchmark::State& state) {
  Rng rng(1);
  const int w = state.range(0), h = state.range(1);
  Framebuffer a = TextScreen(rng, w, h);
  a.mutable_cursor()->row = h / 2;
  a.mutable_cursor()->col = 10;
  Framebuffer b = a;
  Cell cell;
  cell.text = "X";
  for (int x = 10; x < 13; ++x) b.MutableRow(h / 2)->Set(x, cell);
  b.mutable_cursor()->col = 13;
  Run(state, a, b);
}

void BM_DiffFullRepaint(benchmark::State& state) {
  Rng rng(2);
  const int w = state.range(0), h = state.range(1);
  Run(state, RandomScreen(rng, w, h, 0.8), RandomScreen(rng, w, h, 0.8));
}

// Full repaint of plain text (one SGR state): a new screen of `ls`-like text.
void BM_DiffFullRepaintText(benchmark::State& state) {
  Rng rng(4);
  const int w = state.range(0), h = state.range(1);
  Run(state, TextScreen(rng, w, h), TextScreen(rng, w, h));
}

void BM_DiffScroll(benchmark::State& state) {
  Rng rng(3);
  const int w = state.range(0), h = state.range(1);
  Framebuffer a = TextScreen(rng, w, h);
  a.mutable_cursor()->row = h - 1;
  Run(state, a, testing::ScrolledWithText(a, 1, rng));
}

void BM_ApplyFullRepaint(benchmark::State& state) {
  Rng rng(2);
  const int w = state.range(0), h = state.range(1);
  const Framebuffer a = RandomScreen(rng, w, h, 0.8);
  const std::string diff = Diff(a, RandomScreen(rng, w, h, 0.8));
  for (auto _ : state) {
    auto result = Apply(a, diff);
    benchmark::DoNotOptimize(result);
  }
  state.counters["bytes"] = static_cast<double>(diff.size());
}

BENCHMARK(BM_DiffTypicalEdit)->Args({80, 24})->Args({200, 60});
BENCHMARK(BM_DiffFullRepaint)->Args({80, 24})->Args({200, 60});
BENCHMARK(BM_DiffFullRepaintText)->Args({80, 24})->Args({200, 60});
BENCHMARK(BM_DiffScroll)->Args({80, 24})->Args({200, 60});
BENCHMARK(BM_ApplyFullRepaint)->Args({80, 24})->Args({200, 60});

}  // namespace
}  // namespace moshx::core
