#include "tools/netem/relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace moshx::netem {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status Errno(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A nonblocking UDP socket bound to 127.0.0.1:port; *bound gets the port.
absl::StatusOr<int> BindUdp(uint16_t port, uint16_t* bound) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  int big = 4 << 20;  // absorb bursts; the kernel caps it at rmem_max
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  sockaddr_in a = Loopback(port);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    absl::Status st = Errno(absl::StrCat("bind 127.0.0.1:", port));
    close(fd);
    return st;
  }
  *bound = ntohs(a.sin_port);
  return fd;
}

bool Probability(double p) { return p >= 0 && p <= 1; }

bool ValidLink(const LinkConfig& l) {
  return l.delay_ms >= 0 && l.jitter_ms >= 0 && Probability(l.loss) &&
         Probability(l.duplicate);
}

}  // namespace

std::string LinkStats::ToString() const {
  return absl::StrCat("received=", received, " sent=", sent, " lost=", lost,
                      " duplicated=", duplicated, " blackholed=", blackholed,
                      " undeliverable=", undeliverable, " errors=", errors,
                      " received_bytes=", received_bytes,
                      " sent_bytes=", sent_bytes);
}

UdpRelay::UdpRelay(const RelayConfig& config) : config_(config) {
  std::seed_seq up_seed{config.seed, uint64_t{1}};
  std::seed_seq down_seed{config.seed, uint64_t{2}};
  up_.config = config.up;
  up_.rng.seed(up_seed);
  down_.config = config.down;
  down_.rng.seed(down_seed);
  server_ = Loopback(config.server_port);
}

UdpRelay::~UdpRelay() {
  for (int fd : {listen_fd_, upstream_fd_, control_fd_, signal_fd_}) {
    if (fd >= 0) close(fd);
  }
}

absl::StatusOr<std::unique_ptr<UdpRelay>> UdpRelay::Create(
    const RelayConfig& config) {
  if (config.server_port == 0) {
    return absl::InvalidArgumentError("server port is required");
  }
  if (!ValidLink(config.up) || !ValidLink(config.down) ||
      config.max_seconds <= 0 || config.control_port > 65535) {
    return absl::InvalidArgumentError("bad relay configuration");
  }
  std::unique_ptr<UdpRelay> relay(new UdpRelay(config));
  absl::Status st = relay->Open();
  if (!st.ok()) return st;
  return relay;
}

absl::Status UdpRelay::Open() {
  absl::StatusOr<int> fd = BindUdp(config_.listen_port, &listen_port_);
  if (!fd.ok()) return fd.status();
  listen_fd_ = *fd;
  absl::Status st = Rebind();
  if (!st.ok()) return st;
  if (config_.control_port >= 0) {
    uint16_t port;
    fd = BindUdp(static_cast<uint16_t>(config_.control_port), &port);
    if (!fd.ok()) return fd.status();
    control_fd_ = *fd;
    control_port_ = port;
  }
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGUSR1, SIGUSR2, SIGINT, SIGTERM}) sigaddset(&set, sig);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Errno("sigprocmask");
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Errno("signalfd");
  return absl::OkStatus();
}

absl::Status UdpRelay::Rebind() {
  uint16_t port;
  absl::StatusOr<int> fd = BindUdp(0, &port);
  if (!fd.ok()) return fd.status();
  if (upstream_fd_ >= 0) close(upstream_fd_);
  upstream_fd_ = *fd;
  upstream_port_ = port;
  return absl::OkStatus();
}

void UdpRelay::Freeze(double seconds) {
  auto length = std::chrono::duration<double>(std::max(0.0, seconds));
  frozen_until_ =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(length);
}

std::string UdpRelay::StatsLine() const {
  return absl::StrCat("up: ", up_.stats.ToString(),
                      " ; down: ", down_.stats.ToString());
}

UdpRelay::Time UdpRelay::DueTime(Link& link, Time now) {
  double ms = link.config.delay_ms;
  if (link.config.jitter_ms > 0) {
    std::uniform_real_distribution<double> jitter(-link.config.jitter_ms,
                                                  link.config.jitter_ms);
    ms = std::max(0.0, ms + jitter(link.rng));
  }
  auto delay = std::chrono::duration<double, std::milli>(ms);
  return now + std::chrono::duration_cast<Clock::duration>(delay);
}

// One datagram enters a link: loss, delay and duplication draws, in this
// fixed order so a seed replays.
void UdpRelay::Admit(bool up, const char* data, size_t size, Time now) {
  Link& link = up ? up_ : down_;
  ++link.stats.received;
  link.stats.received_bytes += size;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  bool lost = unit(link.rng) < link.config.loss;
  Time due = DueTime(link, now);
  bool dup = unit(link.rng) < link.config.duplicate;
  Time dup_due = DueTime(link, now);
  if (now < frozen_until_) {
    ++link.stats.blackholed;
    return;
  }
  if (lost) {
    ++link.stats.lost;
    return;
  }
  queue_.push(Pending{due, order_++, up, std::string(data, size)});
  if (dup) {
    ++link.stats.duplicated;
    queue_.push(Pending{dup_due, order_++, up, std::string(data, size)});
  }
}

void UdpRelay::Deliver(const Pending& p, Time now) {
  LinkStats& stats = p.up ? up_.stats : down_.stats;
  if (now < frozen_until_) {
    ++stats.blackholed;
    return;
  }
  if (!p.up && !have_client_) {
    ++stats.undeliverable;
    return;
  }
  int fd = p.up ? upstream_fd_ : listen_fd_;
  const sockaddr_in& to = p.up ? server_ : client_;
  ssize_t n = sendto(fd, p.payload.data(), p.payload.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  if (n < 0) {
    ++stats.errors;
  } else {
    ++stats.sent;
    stats.sent_bytes += p.payload.size();
  }
}

void UdpRelay::DeliverDue(Time now) {
  while (!queue_.empty() && queue_.top().due <= now) {
    Deliver(queue_.top(), now);
    queue_.pop();
  }
}

// Reads every pending datagram from the listen socket (from_client) or the
// upstream socket (from the server; other senders are ignored).
void UdpRelay::DrainSocket(int fd, bool from_client, Time now) {
  static char buf[65536];
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;  // EAGAIN, or an ICMP error report: nothing to do
    if (from_client) {
      client_ = from;
      have_client_ = true;
    } else if (from.sin_port != server_.sin_port ||
               from.sin_addr.s_addr != server_.sin_addr.s_addr) {
      continue;
    }
    Admit(from_client, buf, static_cast<size_t>(n), now);
  }
}

std::string UdpRelay::Command(const std::string& text) {
  absl::string_view cmd = absl::StripAsciiWhitespace(text);
  if (cmd == "rebind") {
    absl::Status st = Rebind();
    return st.ok() ? absl::StrCat("ok upstream=", upstream_port_)
                   : absl::StrCat("error ", st.ToString());
  }
  if (absl::ConsumePrefix(&cmd, "freeze ")) {
    double seconds;
    if (!absl::SimpleAtod(cmd, &seconds) || seconds < 0) {
      return "error bad seconds";
    }
    Freeze(seconds);
    return absl::StrCat("ok frozen ", seconds);
  }
  if (cmd == "stats") return StatsLine();
  if (cmd == "quit") {
    stop_ = true;
    return "ok";
  }
  return "error unknown command (rebind | freeze SECONDS | stats | quit)";
}

void UdpRelay::HandleControl() {
  char buf[512];
  sockaddr_in from{};
  socklen_t len = sizeof(from);
  ssize_t n;
  while ((n = recvfrom(control_fd_, buf, sizeof(buf), 0,
                       reinterpret_cast<sockaddr*>(&from), &len)) >= 0) {
    std::string reply = Command(std::string(buf, static_cast<size_t>(n)));
    sendto(control_fd_, reply.data(), reply.size(), 0,
           reinterpret_cast<sockaddr*>(&from), len);
    len = sizeof(from);
  }
}

void UdpRelay::HandleSignals() {
  signalfd_siginfo info;
  while (read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    if (info.ssi_signo == SIGUSR1) {
      absl::Status st = Rebind();
      printf("udp_relay: rebind %s upstream=%u\n", st.ok() ? "ok" : "failed",
             upstream_port_);
    } else if (info.ssi_signo == SIGUSR2) {
      Freeze(config_.sigusr2_freeze_seconds);
      printf("udp_relay: frozen for %g s\n", config_.sigusr2_freeze_seconds);
    } else {
      stop_ = true;
    }
    fflush(stdout);
  }
}

int UdpRelay::PollTimeoutMs(Time now, Time end) const {
  Time wake = end;
  if (!queue_.empty()) wake = std::min(wake, queue_.top().due);
  if (wake <= now) return 0;
  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(wake - now);
  return static_cast<int>((ms.count() + 999) / 1000);  // round up
}

absl::Status UdpRelay::Run() {
  auto limit = std::chrono::duration<double>(config_.max_seconds);
  const Time end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(limit);
  while (!stop_) {
    Time now = Clock::now();
    DeliverDue(now);
    if (now >= end) break;
    pollfd fds[4] = {{listen_fd_, POLLIN, 0}, {upstream_fd_, POLLIN, 0},
                     {signal_fd_, POLLIN, 0}, {control_fd_, POLLIN, 0}};
    int nfds = control_fd_ >= 0 ? 4 : 3;
    if (poll(fds, nfds, PollTimeoutMs(now, end)) < 0 && errno != EINTR) {
      return Errno("poll");
    }
    now = Clock::now();
    if (fds[0].revents & POLLIN) DrainSocket(listen_fd_, true, now);
    if (fds[1].revents & POLLIN) DrainSocket(upstream_fd_, false, now);
    if (fds[2].revents & POLLIN) HandleSignals();
    if (nfds == 4 && (fds[3].revents & POLLIN)) HandleControl();
  }
  return absl::OkStatus();
}

}  // namespace moshx::netem
