// What forwarding costs the router (docs/router.md §5): one datagram from a
// UDP client through the router to a session host on a socketpair, and one
// reply back, on real sockets on loopback. `bazel run -c opt
// //cmd/router:router_benchmark`; the figures are per forwarded datagram and
// include the client's send and the host's receive.
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "cmd/router/router.h"
#include "cmd/router/router_socket.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/udp_socket.h"

namespace moshx::cmd::router {
namespace {

std::string Datagram(uint64_t id, size_t size) {
  std::string d;
  for (int shift = 56; shift >= 0; shift -= 8) d.push_back(static_cast<char>(id >> shift));
  d.resize(size, 'x');
  return d;
}

void BM_ForwardToHost(benchmark::State& state) {
  net::SystemClock clock;
  auto loop = *net::PollEventLoop::Create(&clock);
  auto loopback = *net::Address::Parse("127.0.0.1", 0);
  auto udp = *net::UdpSocket::Bind(loopback, net::PortRange{0, 0});
  auto client = *net::UdpSocket::Bind(loopback, net::PortRange{0, 0});
  auto router = *Router::Create(loop.get(), std::move(udp), sys::ScopedFd(),
                                [](int) -> absl::StatusOr<uid_t> { return 1000; });
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    state.SkipWithError("socketpair");
    return;
  }
  sys::ScopedFd host(fds[1]);
  if (!router->AddHost(sys::ScopedFd(fds[0]), 1000).ok() ||
      !ReceiveFrame(host.get(), absl::Seconds(1)).ok() ||  // hello
      !SendFrame(host.get(), ClaimFrame(1)).ok()) {
    state.SkipWithError("register");
    return;
  }
  if (!loop->RunOnce(absl::Milliseconds(10)).ok() ||  // the claim
      !ReceiveFrame(host.get(), absl::Seconds(1)).ok()) {
    state.SkipWithError("claim");
    return;
  }
  const std::string d = Datagram(1, static_cast<size_t>(state.range(0)));
  const net::Address to = router->local_address();
  for (auto _ : state) {
    if (!client->SendTo(to, d).ok()) {
      state.SkipWithError("send");
      break;
    }
    if (!loop->RunOnce(absl::Seconds(1)).ok()) {  // wakes for the datagram
      state.SkipWithError("loop");
      break;
    }
    absl::StatusOr<Frame> got = ReceiveFrame(host.get(), absl::Seconds(1));
    if (!got.ok()) {
      state.SkipWithError("lost");
      break;
    }
    benchmark::DoNotOptimize(got->datagram.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ForwardToHost)->Arg(100)->Arg(1252);

}  // namespace
}  // namespace moshx::cmd::router
