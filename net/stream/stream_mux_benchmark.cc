// CPU cost of the stream multiplexer per megabyte: one stream carries a bulk
// transfer between two muxes on the simulated network (virtual time, so the
// figure is the CPU of both muxes plus the simulator's bookkeeping, not a
// link rate). Run: bazel run -c opt //net/stream:stream_mux_benchmark
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "net/stream/stream_mux.h"
#include "net/stream/testing/sim_link.h"
#include "net/testing/simulated_network.h"

namespace moshx::net::stream {
namespace {

void BM_BulkTransfer(benchmark::State& state) {
  const size_t kBytes = static_cast<size_t>(state.range(0)) * 1000 * 1000;
  const double loss = static_cast<double>(state.range(1)) / 100;
  std::string payload(kBytes, 'x');
  for (size_t i = 0; i < payload.size(); i += 97) payload[i] = static_cast<char>(i);
  for (auto _ : state) {
    net::testing::SimulatedNetwork net(/*seed=*/3);
    net::testing::LinkParams params;
    params.delay = absl::Milliseconds(10);
    params.rate_bits_per_second = 1e9;
    params.queue_bytes = 4 * 1000 * 1000;
    params.loss = loss;
    testing::SimLink link(&net, params);
    size_t received = 0;
    StreamId server_id = 0;
    char buffer[64 * 1024];
    link.server->set_incoming_handler([&](StreamId id) {
      server_id = id;
      link.server->Finish(id);
      link.server
          ->SetCallbacks(id, {[&] {
                           for (size_t n; (n = link.server->Read(server_id, buffer,
                                                                 sizeof buffer)) > 0;) {
                             received += n;
                           }
                         }})
          .IgnoreError();
    });
    StreamId id = *link.client->Open();
    size_t sent = 0;
    auto pump = [&] {
      while (sent < kBytes) {
        size_t n = link.client->Write(id, absl::string_view(payload).substr(sent, 64 * 1024));
        if (n == 0) break;
        sent += n;
      }
      if (sent == kBytes) link.client->Finish(id);
    };
    link.client->SetCallbacks(id, {nullptr, pump}).IgnoreError();
    pump();
    if (!net.RunUntil([&] { return received == kBytes; }, absl::Seconds(600))) {
      state.SkipWithError("transfer did not finish");
      break;
    }
    benchmark::DoNotOptimize(received);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
// 16 MB clean, and 16 MB at 5% loss.
BENCHMARK(BM_BulkTransfer)->Args({16, 0})->Args({16, 5})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moshx::net::stream
