// netem_probe: small traffic tools for measuring an emulated link (a test
// tool; run each side in its namespace with `ip netns exec`).
//
//   netem_probe udp-echo --port 7001 [--bind ADDR] [--max-seconds 60]
//   netem_probe udp-ping --to 10.77.2.2 --port 7001 [--count 100]
//               [--interval-ms 10] [--size 64] [--wait-ms 2000]
//     -> sent=100 received=95 lost=5 loss=0.05 duplicates=0 reordered=0
//        rtt_min_ms=.. rtt_avg_ms=.. rtt_p5_ms=.. rtt_p50_ms=.. rtt_p95_ms=..
//        rtt_max_ms=..  (the rtt fields only when something came back)
//   netem_probe tcp-sink --port 7002 [--count 1] [--max-seconds 60]
//     -> received_bytes=N seconds=S mbit_per_s=R pattern_ok=1  (per connection)
//   netem_probe tcp-send --to 10.77.2.2 --port 7002 --bytes 10000000
//               [--timeout-seconds 60]
//     -> sent_bytes=N connect_ms=C seconds=S mbit_per_s=R
//        (S: from the connection's establishment until the sink closed it
//        after reading everything, so it includes the last half round trip)
//   netem_probe udp-sink --port 7003 [--idle-ms 1000] [--max-seconds 60]
//     -> received_packets=N received_bytes=B seconds=S mbit_per_s=R
//        (S: first to last arrival; bytes are UDP payload)
//   netem_probe udp-blast --to ADDR --port 7003 --rate 30mbit --seconds 2
//               [--size 1200]
//     -> sent_packets=N sent_bytes=B seconds=S
//
// TCP payload is a fixed pattern (byte i is i mod 251), checked by the sink.
// Every mode is bounded in time. Exit status 0 on success, 1 on a failure
// (message on stderr), 2 on bad arguments.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "tools/netem/link_model.h"

namespace {

constexpr uint32_t kMagic = 0x6e65746d;  // "netm"

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int Fail(const char* what) {
  fprintf(stderr, "netem_probe: %s: %s\n", what, strerror(errno));
  return 1;
}

bool Addr(const std::string& host, uint16_t port, sockaddr_in* a) {
  *a = sockaddr_in{};
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  return inet_pton(AF_INET, host.c_str(), &a->sin_addr) == 1;
}

int Bound(int type, const std::string& host, uint16_t port) {
  sockaddr_in a;
  if (!Addr(host, port, &a)) {
    fprintf(stderr, "netem_probe: bad address %s\n", host.c_str());
    return -1;
  }
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    Fail("bind");
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

// Waits for `fd` to become readable until the absolute deadline.
bool WaitReadable(int fd, int64_t deadline_ns) {
  for (;;) {
    int64_t left = deadline_ns - NowNs();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    timespec ts{static_cast<time_t>(left / 1000000000),
                static_cast<long>(left % 1000000000)};
    int r = ppoll(&p, 1, &ts, nullptr);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

uint8_t PatternByte(uint64_t i) { return static_cast<uint8_t>(i % 251); }

int UdpEcho(const std::string& bind_addr, uint16_t port, double max_seconds) {
  int fd = Bound(SOCK_DGRAM, bind_addr, port);
  if (fd < 0) return 1;
  printf("udp-echo ready\n");
  fflush(stdout);
  int64_t end = NowNs() + static_cast<int64_t>(max_seconds * 1e9);
  char buf[65536];
  while (WaitReadable(fd, end)) {
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) continue;
    sendto(fd, buf, n, 0, reinterpret_cast<sockaddr*>(&from), len);
  }
  close(fd);
  return 0;
}

int UdpPing(const std::string& to, uint16_t port, int count, double interval_ms,
            int size, double wait_ms) {
  sockaddr_in dst;
  if (!Addr(to, port, &dst)) {
    fprintf(stderr, "netem_probe: bad address %s\n", to.c_str());
    return 2;
  }
  size = std::max(size, 16);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("socket");
  std::vector<double> rtts;
  std::vector<bool> seen(count, false);
  int duplicates = 0, reordered = 0, sent = 0;
  int64_t highest = -1;
  std::vector<char> buf(std::max(size, 65536));
  const int64_t start = NowNs();
  const auto interval_ns = static_cast<int64_t>(interval_ms * 1e6);
  int64_t deadline = start + static_cast<int64_t>(wait_ms * 1e6);
  for (;;) {
    int64_t now = NowNs();
    if (sent < count && now >= start + sent * interval_ns) {
      std::vector<char> msg(size, 0);
      uint32_t seq = sent;
      memcpy(msg.data(), &kMagic, 4);
      memcpy(msg.data() + 4, &seq, 4);
      memcpy(msg.data() + 8, &now, 8);
      if (sendto(fd, msg.data(), msg.size(), 0,
                 reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) < 0) {
        return Fail("sendto");
      }
      ++sent;
      if (sent == count) deadline = now + static_cast<int64_t>(wait_ms * 1e6);
      continue;
    }
    if (sent == count &&
        (now >= deadline || static_cast<int>(rtts.size()) >= count)) {
      break;
    }
    int64_t next = sent < count ? start + sent * interval_ns : deadline;
    if (!WaitReadable(fd, next)) continue;
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 16) continue;
    uint32_t magic, seq;
    int64_t t;
    memcpy(&magic, buf.data(), 4);
    memcpy(&seq, buf.data() + 4, 4);
    memcpy(&t, buf.data() + 8, 8);
    if (magic != kMagic || seq >= static_cast<uint32_t>(count)) continue;
    if (seen[seq]) {
      ++duplicates;
      continue;
    }
    seen[seq] = true;
    if (static_cast<int64_t>(seq) < highest) ++reordered;
    highest = std::max<int64_t>(highest, seq);
    rtts.push_back((NowNs() - t) / 1e6);
  }
  close(fd);
  int received = static_cast<int>(rtts.size());
  printf("sent=%d received=%d lost=%d loss=%.4f duplicates=%d reordered=%d",
         sent, received, sent - received,
         sent ? static_cast<double>(sent - received) / sent : 0.0, duplicates,
         reordered);
  if (received > 0) {
    std::vector<double> sorted = rtts;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double r : rtts) sum += r;
    auto pct = [&](double q) {
      return sorted[std::min<size_t>(sorted.size() - 1,
                                     static_cast<size_t>(q * sorted.size()))];
    };
    printf(" rtt_min_ms=%.3f rtt_avg_ms=%.3f rtt_p5_ms=%.3f rtt_p50_ms=%.3f"
           " rtt_p95_ms=%.3f rtt_max_ms=%.3f",
           sorted.front(), sum / received, pct(0.05), pct(0.5), pct(0.95),
           sorted.back());
  }
  printf("\n");
  return 0;
}

int TcpSink(const std::string& bind_addr, uint16_t port, int count,
            double max_seconds) {
  int lfd = Bound(SOCK_STREAM, bind_addr, port);
  if (lfd < 0) return 1;
  if (listen(lfd, 8) != 0) return Fail("listen");
  printf("tcp-sink ready\n");
  fflush(stdout);
  int64_t end = NowNs() + static_cast<int64_t>(max_seconds * 1e9);
  std::vector<char> buf(1 << 16);
  for (int c = 0; c < count; ++c) {
    if (!WaitReadable(lfd, end)) {
      fprintf(stderr, "netem_probe: tcp-sink: no connection in time\n");
      return 1;
    }
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return Fail("accept");
    uint64_t total = 0;
    bool ok = true;
    int64_t first = 0, last = 0;
    for (;;) {
      if (!WaitReadable(fd, end)) {
        fprintf(stderr, "netem_probe: tcp-sink: timed out after %llu bytes\n",
                static_cast<unsigned long long>(total));
        return 1;
      }
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail("read");
      if (n == 0) break;
      last = NowNs();
      if (total == 0) first = last;
      for (ssize_t i = 0; i < n && ok; ++i) {
        ok = static_cast<uint8_t>(buf[i]) == PatternByte(total + i);
      }
      total += n;
    }
    close(fd);
    double seconds = (last - first) / 1e9;
    printf("received_bytes=%llu seconds=%.4f mbit_per_s=%.3f pattern_ok=%d\n",
           static_cast<unsigned long long>(total), seconds,
           seconds > 0 ? total * 8 / seconds / 1e6 : 0.0, ok ? 1 : 0);
    fflush(stdout);
    if (!ok) return 1;
  }
  close(lfd);
  return 0;
}

int TcpSend(const std::string& to, uint16_t port, uint64_t bytes,
            double timeout_seconds) {
  sockaddr_in dst;
  if (!Addr(to, port, &dst)) {
    fprintf(stderr, "netem_probe: bad address %s\n", to.c_str());
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("socket");
  timeval tv{static_cast<time_t>(timeout_seconds), 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int64_t t0 = NowNs();
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    return Fail("connect");
  }
  int64_t t1 = NowNs();
  int64_t end = t1 + static_cast<int64_t>(timeout_seconds * 1e9);
  std::vector<char> chunk(1 << 16);
  uint64_t sent = 0;
  while (sent < bytes) {
    if (NowNs() > end) {
      fprintf(stderr, "netem_probe: tcp-send: timed out after %llu bytes\n",
              static_cast<unsigned long long>(sent));
      return 1;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), bytes - sent));
    for (size_t i = 0; i < n; ++i) chunk[i] = PatternByte(sent + i);
    ssize_t w = write(fd, chunk.data(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Fail("write");
    sent += w;
  }
  shutdown(fd, SHUT_WR);
  char c;
  ssize_t r;
  while ((r = read(fd, &c, 1)) != 0) {
    if (r < 0 && errno != EINTR) return Fail("waiting for the sink to close");
  }
  int64_t t2 = NowNs();
  close(fd);
  double seconds = (t2 - t1) / 1e9;
  printf("sent_bytes=%llu connect_ms=%.3f seconds=%.4f mbit_per_s=%.3f\n",
         static_cast<unsigned long long>(sent), (t1 - t0) / 1e6, seconds,
         sent * 8 / seconds / 1e6);
  return 0;
}

int UdpSink(const std::string& bind_addr, uint16_t port, double idle_ms,
            double max_seconds) {
  int fd = Bound(SOCK_DGRAM, bind_addr, port);
  if (fd < 0) return 1;
  printf("udp-sink ready\n");
  fflush(stdout);
  int64_t end = NowNs() + static_cast<int64_t>(max_seconds * 1e9);
  uint64_t packets = 0, bytes = 0;
  int64_t first = 0, last = 0;
  std::vector<char> buf(65536);
  for (;;) {
    int64_t deadline =
        packets ? std::min(end, last + static_cast<int64_t>(idle_ms * 1e6)) : end;
    if (!WaitReadable(fd, deadline)) break;
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) continue;
    last = NowNs();
    if (packets == 0) first = last;
    ++packets;
    bytes += n;
  }
  close(fd);
  double seconds = (last - first) / 1e9;
  printf("received_packets=%llu received_bytes=%llu seconds=%.4f "
         "mbit_per_s=%.3f\n",
         static_cast<unsigned long long>(packets),
         static_cast<unsigned long long>(bytes), seconds,
         seconds > 0 ? bytes * 8 / seconds / 1e6 : 0.0);
  return 0;
}

int UdpBlast(const std::string& to, uint16_t port, double rate_bps,
             double seconds, int size) {
  sockaddr_in dst;
  if (!Addr(to, port, &dst) || rate_bps <= 0 || size < 1) {
    fprintf(stderr, "netem_probe: bad address, rate or size\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("socket");
  std::vector<char> msg(size, 'x');
  // Paced by the rate of UDP payload plus IPv4/UDP headers (28 bytes), the
  // size the relay's rate limit counts.
  const double gap_ns = (size + 28) * 8e9 / rate_bps;
  const int64_t start = NowNs();
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t sent = 0;
  for (;;) {
    int64_t due = start + static_cast<int64_t>(sent * gap_ns);
    if (due >= end) break;
    int64_t now = NowNs();
    if (now < due) {
      timespec ts{static_cast<time_t>((due - now) / 1000000000),
                  static_cast<long>((due - now) % 1000000000)};
      nanosleep(&ts, nullptr);
      continue;
    }
    if (sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&dst),
               sizeof(dst)) < 0 &&
        errno != ENOBUFS && errno != EAGAIN) {
      return Fail("sendto");
    }
    ++sent;
  }
  close(fd);
  printf("sent_packets=%llu sent_bytes=%llu seconds=%.4f\n",
         static_cast<unsigned long long>(sent),
         static_cast<unsigned long long>(sent * size), (NowNs() - start) / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Traffic probes for emulated links (test tool).", "netem_probe");
  app.require_subcommand(1);
  std::string bind_addr = "0.0.0.0", to, rate_text;
  uint16_t port = 0;
  double max_seconds = 60, interval_ms = 10, wait_ms = 2000, idle_ms = 1000,
         timeout_seconds = 60, seconds = 1;
  int count = 100, size = 64, connections = 1;
  uint64_t bytes = 0;

  auto* echo = app.add_subcommand("udp-echo", "echo UDP datagrams back");
  auto* ping = app.add_subcommand("udp-ping", "UDP round trips to a udp-echo");
  auto* sink = app.add_subcommand("tcp-sink", "accept, read, check, report");
  auto* send = app.add_subcommand("tcp-send", "send BYTES to a tcp-sink");
  auto* usink = app.add_subcommand("udp-sink", "count UDP datagrams");
  auto* blast = app.add_subcommand("udp-blast", "send UDP at a fixed rate");
  for (CLI::App* c : {echo, sink, usink}) {
    c->add_option("--bind", bind_addr, "local address (default 0.0.0.0)");
    c->add_option("--port", port, "local port")->required();
    c->add_option("--max-seconds", max_seconds, "give up after (default 60)");
  }
  for (CLI::App* c : {ping, send, blast}) {
    c->add_option("--to", to, "IPv4 address")->required();
    c->add_option("--port", port, "port")->required();
  }
  ping->add_option("--count", count, "probes (default 100)")
      ->check(CLI::Range(1, 10000000));
  ping->add_option("--interval-ms", interval_ms, "between probes (default 10)");
  ping->add_option("--size", size, "datagram bytes, >= 16 (default 64)");
  ping->add_option("--wait-ms", wait_ms,
                   "wait for answers after the last probe (default 2000)");
  sink->add_option("--count", connections, "connections to serve (default 1)");
  send->add_option("--bytes", bytes, "bytes to send")->required();
  send->add_option("--timeout-seconds", timeout_seconds, "default 60");
  usink->add_option("--idle-ms", idle_ms,
                    "stop this long after the last datagram (default 1000)");
  blast->add_option("--rate", rate_text, "e.g. 30mbit")->required();
  blast->add_option("--seconds", seconds, "how long (default 1)");
  blast->add_option("--size", size, "UDP payload bytes (default 64)");
  CLI11_PARSE(app, argc, argv);

  if (echo->parsed()) return UdpEcho(bind_addr, port, max_seconds);
  if (ping->parsed()) {
    return UdpPing(to, port, count, interval_ms, size, wait_ms);
  }
  if (sink->parsed()) return TcpSink(bind_addr, port, connections, max_seconds);
  if (send->parsed()) return TcpSend(to, port, bytes, timeout_seconds);
  if (usink->parsed()) return UdpSink(bind_addr, port, idle_ms, max_seconds);
  if (blast->parsed()) {
    moshx::netem::LinkConfig c;
    absl::Status st =
        moshx::netem::ParseLinkSpec("rate=" + rate_text, &c);
    if (!st.ok()) {
      fprintf(stderr, "netem_probe: %s\n", st.ToString().c_str());
      return 2;
    }
    return UdpBlast(to, port, c.rate_bps, seconds, size);
  }
  return 2;
}
