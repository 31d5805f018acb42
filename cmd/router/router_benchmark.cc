// What forwarding costs the router (docs/router.md §5), on real sockets on
// loopback; `bazel run -c opt //cmd/router:router_benchmark`.
//   BM_ForwardToHost: one datagram from a UDP client through the router to a
//     session host on a socketpair, all in one thread; the CPU time per
//     forwarded datagram includes the client's send and the host's receive.
//   BM_RoundTripDirect / BM_RoundTripThroughRouter: a client's datagram and
//     its echo, first from a UDP echo server, then from a host echoing behind
//     the router (router, host and client each on a thread of their own, as
//     in three processes). The difference of the two wall times is the
//     latency the router adds to a round trip (two forwarded datagrams);
//     `router_cpu_us` is the router thread's own CPU time per forwarded
//     datagram.
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

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

int64_t ThreadCpuNanos() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// A blocking loopback UDP socket that gives up a receive after 100 ms.
int LoopbackUdp(sockaddr_in* bound) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  timeval tv{0, 100'000};
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    return -1;
  }
  *bound = a;
  return fd;
}

// The client's side of both round-trip benchmarks: send, wait for the echo.
void RoundTrips(benchmark::State& state, int client, const sockaddr_in& to) {
  const std::string d = Datagram(1, static_cast<size_t>(state.range(0)));
  std::string in(4096, '\0');
  for (auto _ : state) {
    if (sendto(client, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof(to)) != static_cast<ssize_t>(d.size())) {
      state.SkipWithError("send");
      break;
    }
    ssize_t n = -1;
    for (int tries = 0; tries < 10 && n < 0; ++tries) n = recv(client, in.data(), in.size(), 0);
    if (n != static_cast<ssize_t>(d.size())) {
      state.SkipWithError("lost");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RoundTripDirect(benchmark::State& state) {
  sockaddr_in server_address{}, client_address{};
  const int server = LoopbackUdp(&server_address);
  const int client = LoopbackUdp(&client_address);
  if (server < 0 || client < 0) {
    state.SkipWithError("sockets");
    return;
  }
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    std::string buffer(4096, '\0');
    while (!stop) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n = recvfrom(server, buffer.data(), buffer.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) sendto(server, buffer.data(), n, 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  RoundTrips(state, client, server_address);
  stop = true;
  echo.join();
  close(server);
  close(client);
}
BENCHMARK(BM_RoundTripDirect)->Arg(100)->Arg(1252)->UseRealTime();

void BM_RoundTripThroughRouter(benchmark::State& state) {
  net::SystemClock clock;
  auto loop = *net::PollEventLoop::Create(&clock);
  auto loopback = *net::Address::Parse("127.0.0.1", 0);
  auto udp = *net::UdpSocket::Bind(loopback, net::PortRange{0, 0});
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
      !SendFrame(host.get(), ClaimFrame(1)).ok() || !loop->RunOnce(absl::Milliseconds(10)).ok() ||
      !ReceiveFrame(host.get(), absl::Seconds(1)).ok()) {
    state.SkipWithError("register");
    return;
  }
  sockaddr_in client_address{};
  const int client = LoopbackUdp(&client_address);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(router->local_address().port());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> router_cpu{0};
  std::thread router_thread([&] {
    const int64_t start = ThreadCpuNanos();
    while (!stop) {
      if (!loop->RunOnce(absl::Milliseconds(10)).ok()) break;
    }
    router_cpu = ThreadCpuNanos() - start;
  });
  std::thread host_thread([&] {  // a session host that echoes every datagram
    std::string out;
    while (!stop) {
      absl::StatusOr<Frame> f = ReceiveFrame(host.get(), absl::Milliseconds(100));
      if (!f.ok() || f->type != FrameType::kDatagram) continue;
      if (EncodeDatagramFrame(f->address, f->datagram, false, &out).ok()) {
        send(host.get(), out.data(), out.size(), MSG_NOSIGNAL);
      }
    }
  });
  RoundTrips(state, client, to);
  stop = true;
  router_thread.join();
  host_thread.join();
  close(client);
  // Two forwarded datagrams per round trip (in and out); the router thread's
  // CPU includes its idle wake-ups (at most one per 10 ms).
  state.counters["router_cpu_us"] = benchmark::Counter(
      static_cast<double>(router_cpu.load()) / 1000.0 / (2.0 * state.iterations()));
}
BENCHMARK(BM_RoundTripThroughRouter)->Arg(100)->Arg(1252)->UseRealTime();

}  // namespace
}  // namespace moshx::cmd::router
