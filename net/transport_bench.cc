// Transport CPU cost: two Transport<CounterState, CounterState> talking over
// the simulated network in virtual time. The server's state changes every
// 20 ms (terminal output), the client's every 100 ms (typing). Prints the
// process CPU time per delivered remote state (a state that became the
// newest on the receiving side) for each wire mode and loss rate.
//
//   bazel run -c opt //net:transport_bench            (60 virtual seconds)
//   bazel run -c opt //net:transport_bench -- --quick (5 virtual seconds)
#include <sys/resource.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

#include "net/testing/counter_state.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"

namespace moshx::net {
namespace {

using testing::CounterState;
using testing::LinkParams;
using testing::SimulatedNetwork;
using CounterTransport = Transport<CounterState, CounterState>;

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Result {
  uint64_t delivered = 0;
  uint64_t datagrams = 0;
  double cpu = 0;
  bool converged = false;
};

Result Run(WireMode mode, double loss, absl::Duration duration) {
  SimulatedNetwork net(1);
  auto* ch = net.AddHost("10.0.0.1");
  auto* sh = net.AddHost("10.0.0.2");
  LinkParams p;
  p.delay = absl::Milliseconds(50);
  p.jitter = absl::Milliseconds(5);
  p.loss = loss;
  net.SetLinks(ch, sh, p);
  std::array<uint8_t, 16> key_bytes{};
  key_bytes.fill(0x5a);
  SessionKey key(key_bytes);
  std::mt19937_64 crng(1), srng(2);
  auto server = *CounterTransport::Create(
      {&net, &net, *sh->Bind(60001), nullptr, absl::BitGenRef(srng)}, key,
      {Role::kServer, mode, 7, std::nullopt, std::nullopt});
  auto client = *CounterTransport::Create(
      {&net, &net, *ch->Open(AddressFamily::kIPv4), ch, absl::BitGenRef(crng)}, key,
      {Role::kClient, mode, 7, sh->ip().WithPort(60001), std::nullopt});
  Result r;
  server->set_on_remote_state([&] { ++r.delivered; });
  client->set_on_remote_state([&] { ++r.delivered; });
  int server_updates = static_cast<int>(duration / absl::Milliseconds(20));
  for (int i = 1; i <= server_updates; ++i) {
    net.ScheduleAlarm(net.Now() + absl::Milliseconds(20) * i, [&] {
      server->mutable_local_state().set_padding(200);  // a screenful of diff
      server->mutable_local_state().Add(1);
    });
    if (i % 5 == 0) {
      net.ScheduleAlarm(net.Now() + absl::Milliseconds(20) * i,
                        [&] { client->mutable_local_state().Add(1); });
    }
  }
  double start = CpuSeconds();
  net.RunFor(duration);
  r.converged = net.RunUntil(
      [&] {
        return server->remote_state() == client->local_state() &&
               client->remote_state() == server->local_state();
      },
      absl::Seconds(30));
  r.cpu = CpuSeconds() - start;
  r.datagrams = server->connection().stats().datagrams_sent +
                client->connection().stats().datagrams_sent;
  return r;
}

}  // namespace
}  // namespace moshx::net

int main(int argc, char** argv) {
  using moshx::net::WireMode;
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  absl::Duration duration = quick ? absl::Seconds(5) : absl::Seconds(60);
  std::printf("%-6s %5s %10s %10s %10s %12s %s\n", "mode", "loss", "virtual", "delivered",
              "datagrams", "cpu_per_state", "cpu_total");
  // Warm-up (page faults, library initialisation), not reported.
  moshx::net::Run(WireMode::kMosh, 0.0, absl::Seconds(2));
  bool ok = true;
  for (WireMode mode : {WireMode::kMosh, WireMode::kMoshx}) {
    for (double loss : {0.0, 0.3}) {
      moshx::net::Result r = moshx::net::Run(mode, loss, duration);
      ok &= r.converged && r.delivered > 0;
      std::printf("%-6s %4.0f%% %10s %10llu %10llu %10.1f us %8.3f s%s\n",
                  mode == WireMode::kMosh ? "mosh" : "moshx", loss * 100,
                  absl::FormatDuration(duration).c_str(),
                  static_cast<unsigned long long>(r.delivered),
                  static_cast<unsigned long long>(r.datagrams),
                  r.delivered ? r.cpu * 1e6 / r.delivered : 0.0, r.cpu,
                  r.converged ? "" : "  NOT CONVERGED");
    }
  }
  return ok ? 0 : 1;
}
