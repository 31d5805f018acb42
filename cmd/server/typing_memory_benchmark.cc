// typing_memory_benchmark: what a long typing session costs the server's
// transport (docs/security.md §5). A client and a server transport of the
// real state types on a simulated 10 ms link; the client types 8 MiB in
// 16 KiB reads within ClientSession's window of unacknowledged keystrokes.
// Then each iteration lets one heartbeat interval pass (the client's
// heartbeat, the server's ack), and the counters say what the process holds:
//   rss_mb              resident set of this process (both transports)
//   server_held_bytes   user stream held in the server's received states
//   over_budget         states the server refused (Transport::kMaxReceivedBytes)
// The time per iteration is the CPU one heartbeat exchange costs at 8 MiB.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "benchmark/benchmark.h"
#include "core/protocol/terminal_state.h"
#include "core/protocol/user_stream.h"
#include "net/send_scheduler.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"

namespace moshx::cmd {
namespace {

using ClientTransport = net::Transport<protocol::UserStream, protocol::TerminalState>;
using ServerTransport = net::Transport<protocol::TerminalState, protocol::UserStream>;

constexpr size_t kWindow = 256 * 1024;  // ClientSession::kMaxUnacknowledgedInput

double ResidentMegabytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  std::fclose(f);
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

struct TypedSession {
  explicit TypedSession(size_t typed_bytes) {
    client_host = net.AddHost("10.0.0.1");
    server_host = net.AddHost("10.0.0.2");
    net::testing::LinkParams link;
    link.delay = absl::Milliseconds(5);
    net.SetLinks(client_host, server_host, link);
    std::array<uint8_t, 16> key_bytes;
    key_bytes.fill(1);
    const net::SessionKey key(key_bytes);
    net::TransportConfig sc;
    sc.role = net::Role::kServer;
    sc.mode = net::WireMode::kMoshx;
    sc.connection_id = 1;
    server = *ServerTransport::Create(
        {&net, &net, *server_host->Bind(60001), nullptr, absl::BitGenRef(server_rng)}, key, sc,
        protocol::TerminalState(80, 24), protocol::UserStream());
    net::TransportConfig cc = sc;
    cc.role = net::Role::kClient;
    cc.server_address = server_host->ip().WithPort(60001);
    client = *ClientTransport::Create({&net, &net, *client_host->Open(net::AddressFamily::kIPv4),
                                       nullptr, absl::BitGenRef(client_rng)},
                                      key, cc, protocol::UserStream(),
                                      protocol::TerminalState(80, 24));
    const std::string chunk(16 * 1024, 'x');
    for (size_t typed = 0; typed < typed_bytes;) {
      if (client->local_state().held_events() < kWindow) {
        client->mutable_local_state().PushBytes(chunk);
        typed += chunk.size();
      }
      net.RunFor(absl::Milliseconds(1));
    }
    net.RunUntil([&] { return server->remote_state().end_index() == typed_bytes; },
                 absl::Seconds(60));
    net.RunFor(absl::Seconds(5));
  }

  net::testing::SimulatedNetwork net{/*seed=*/7};
  std::mt19937_64 client_rng{1}, server_rng{2};
  net::testing::SimulatedNetwork::Host* client_host;
  net::testing::SimulatedNetwork::Host* server_host;
  std::unique_ptr<ServerTransport> server;
  std::unique_ptr<ClientTransport> client;
};

void BM_HeartbeatAfterTyping(benchmark::State& state) {
  const size_t typed = static_cast<size_t>(state.range(0)) << 20;
  TypedSession session(typed);
  for (auto _ : state) session.net.RunFor(net::SendScheduler::kAckInterval);
  state.counters["rss_mb"] = ResidentMegabytes();
  state.counters["server_held_bytes"] = static_cast<double>(session.server->received_bytes_held());
  state.counters["over_budget"] = static_cast<double>(session.server->stats().over_budget);
  state.counters["typed_mib"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_HeartbeatAfterTyping)->Arg(8)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moshx::cmd
