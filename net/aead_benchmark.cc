// Seal/Open throughput of the two AEADs at datagram-like sizes:
//   bazel run -c opt //net:aead_benchmark
#include <array>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "net/gcm_aes128.h"
#include "net/ocb_aes128.h"

namespace moshx::net {
namespace {

std::unique_ptr<Aead> MakeAead(bool ocb) {
  SessionKey key(std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  if (ocb) return std::make_unique<OcbAes128>(key);
  return std::make_unique<GcmAes128>(key);
}

void BM_Seal(benchmark::State& state, bool ocb) {
  auto aead = MakeAead(ocb);
  std::string plaintext(state.range(0), 'p'), out;
  AeadNonce nonce{};
  for (auto _ : state) {
    out.clear();
    ++nonce[11];
    aead->Seal(nonce, "", plaintext, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_Open(benchmark::State& state, bool ocb) {
  auto aead = MakeAead(ocb);
  std::string plaintext(state.range(0), 'p'), sealed, out;
  AeadNonce nonce{};
  aead->Seal(nonce, "", plaintext, &sealed);
  for (auto _ : state) {
    bool ok = aead->Open(nonce, "", sealed, &out);
    if (!ok) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK_CAPTURE(BM_Seal, Ocb3, true)->Arg(64)->Arg(512)->Arg(1400);
BENCHMARK_CAPTURE(BM_Open, Ocb3, true)->Arg(64)->Arg(512)->Arg(1400);
BENCHMARK_CAPTURE(BM_Seal, Gcm, false)->Arg(64)->Arg(512)->Arg(1400);
BENCHMARK_CAPTURE(BM_Open, Gcm, false)->Arg(64)->Arg(512)->Arg(1400);

}  // namespace
}  // namespace moshx::net
