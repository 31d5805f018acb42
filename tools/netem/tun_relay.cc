#include "tools/netem/tun_relay.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moshx::netem {

const char TunRelay::kCommandHelp[] =
    "commands (one per connection):\n"
    "  set LINKS SPEC        change links: LINKS = all | NAME | NAME.up |\n"
    "                        NAME.down | a,b,...; SPEC = key=value,... with\n"
    "                        delay jitter reorder loss rate queue drop, or clean\n"
    "  drop PROTOS [LINKS]   also drop tcp|udp|icmp|other|all (a+b) packets\n"
    "  pass PROTOS [LINKS]   stop dropping them\n"
    "  freeze SECONDS [LINKS]  blackhole the links (default all) for a while\n"
    "  show                  the configuration of every link\n"
    "  stats                 counters, key=value lines\n"
    "  clear                 zero the counters\n"
    "  quit                  stop the relay\n";

namespace {

absl::Status Errno(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// RAII for a file descriptor used during setup.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Sets the MTU of device `name` of the calling thread's namespace and
// brings it up.
absl::Status BringUp(const std::string& name, int mtu) {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return Errno("socket");
  ifreq req{};
  strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  req.ifr_mtu = mtu;
  if (ioctl(sock.get(), SIOCSIFMTU, &req) != 0) {
    return Errno(absl::StrCat("SIOCSIFMTU ", mtu));
  }
  if (ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return Errno("SIOCGIFFLAGS");
  req.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return Errno("SIOCSIFFLAGS");
  return absl::OkStatus();
}

// Creates the TUN device `name` inside the namespace at `netns_path`, with
// the MTU and up. The calling thread returns to its own namespace.
absl::StatusOr<int> OpenTunIn(const std::string& netns_path,
                              const std::string& name, int mtu) {
  Fd home(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (home.get() < 0) return Errno("open /proc/self/ns/net");
  Fd target(open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (target.get() < 0) return Errno(absl::StrCat("open ", netns_path));
  if (setns(target.get(), CLONE_NEWNET) != 0) {
    return Errno(absl::StrCat("setns ", netns_path));
  }
  absl::Status st;
  Fd tun(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (tun.get() < 0) {
    st = Errno("open /dev/net/tun");
  } else {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(tun.get(), TUNSETIFF, &ifr) != 0) {
      st = Errno(absl::StrCat("TUNSETIFF ", name, " in ", netns_path));
    } else {
      st = BringUp(name, mtu);
    }
  }
  if (setns(home.get(), CLONE_NEWNET) != 0) {
    // The relay would go on in the wrong namespace: never continue.
    perror("tun_relay: setns back to the relay's own namespace");
    abort();
  }
  if (!st.ok()) return st;
  return tun.release();
}

}  // namespace

struct TunRelay::Port {
  PortSpec spec;
  int fd = -1;
};

struct TunRelay::Event {
  int64_t due_ns;
  uint64_t seq;
  int link;
  int dst_port;
  Proto proto;
  std::string data;
};

namespace {
struct Later {
  template <typename E>
  bool operator()(const E& a, const E& b) const {
    return a.due_ns != b.due_ns ? a.due_ns > b.due_ns : a.seq > b.seq;
  }
};
}  // namespace

absl::StatusOr<PortSpec> ParsePortSpec(absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port '", text, "': expected NAME:NETNS_PATH:PREFIX[+PREFIX...]"));
  }
  PortSpec spec;
  spec.name = parts[0];
  spec.netns_path = parts[1];
  if (!ValidName(spec.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("port name '", spec.name, "': use [A-Za-z0-9_-]"));
  }
  for (absl::string_view p : absl::StrSplit(parts[2], '+')) {
    absl::StatusOr<Ipv4Prefix> prefix = ParseIpv4Prefix(p);
    if (!prefix.ok()) return prefix.status();
    spec.prefixes.push_back(*prefix);
  }
  return spec;
}

TunRelay::TunRelay(const RelayOptions& options) : options_(options) {
  for (size_t i = 0; i < options.ports.size(); ++i) {
    ports_.push_back(Port{options.ports[i], -1});
    for (uint64_t dir = 0; dir < 2; ++dir) {
      std::seed_seq seq{options.seed, uint64_t{2 * i + dir}};
      std::mt19937_64 gen(seq);
      links_.emplace_back(gen());
    }
  }
}

TunRelay::~TunRelay() {
  for (Port& p : ports_) {
    if (p.fd >= 0) close(p.fd);
  }
  if (control_fd_ >= 0) {
    close(control_fd_);
    unlink(options_.control_path.c_str());
  }
  if (signal_fd_ >= 0) close(signal_fd_);
}

absl::StatusOr<std::unique_ptr<TunRelay>> TunRelay::Create(
    const RelayOptions& options) {
  if (options.ports.size() < 2) {
    return absl::InvalidArgumentError("at least two ports are needed");
  }
  for (size_t i = 0; i < options.ports.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (options.ports[i].name == options.ports[j].name) {
        return absl::InvalidArgumentError(
            absl::StrCat("port name '", options.ports[i].name, "' twice"));
      }
    }
  }
  if (options.tun_name.empty() || options.tun_name.size() >= IFNAMSIZ ||
      options.mtu < 576 || options.mtu > 65535 || options.max_seconds <= 0 ||
      options.realtime_priority < 0 || options.realtime_priority > 99) {
    return absl::InvalidArgumentError(
        "bad tun name, mtu, max_seconds or realtime priority");
  }
  std::unique_ptr<TunRelay> relay(new TunRelay(options));
  absl::Status st = relay->Open();
  if (!st.ok()) return st;
  return relay;
}

absl::Status TunRelay::Open() {
  // Microsecond timers: a 20 Mbit/s link sends a 1500-byte packet every
  // 0.6 ms, so the default 50 us slack is too coarse for nothing.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  if (options_.realtime_priority > 0) {
    sched_param sp{};
    sp.sched_priority = options_.realtime_priority;
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0) {
      fprintf(stderr, "tun_relay: no SCHED_FIFO (%s); timers may be late\n",
              strerror(errno));
    }
  }
  for (Port& p : ports_) {
    absl::StatusOr<int> fd =
        OpenTunIn(p.spec.netns_path, options_.tun_name, options_.mtu);
    if (!fd.ok()) return fd.status();
    p.fd = *fd;
  }
  if (!options_.control_path.empty()) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options_.control_path.size() >= sizeof(addr.sun_path)) {
      return absl::InvalidArgumentError("control socket path too long");
    }
    strncpy(addr.sun_path, options_.control_path.c_str(),
            sizeof(addr.sun_path) - 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Errno("socket(AF_UNIX)");
    unlink(options_.control_path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd, 8) != 0) {
      absl::Status s = Errno(absl::StrCat("bind ", options_.control_path));
      close(fd);
      return s;
    }
    control_fd_ = fd;
  }
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGUSR1, SIGUSR2, SIGINT, SIGTERM, SIGHUP}) {
    sigaddset(&set, sig);
  }
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Errno("sigprocmask");
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Errno("signalfd");
  return absl::OkStatus();
}

std::string TunRelay::LinkName(int link) const {
  return absl::StrCat(ports_[link / 2].spec.name, link % 2 ? ".down" : ".up");
}

absl::StatusOr<std::vector<int>> TunRelay::SelectLinks(
    absl::string_view selector) const {
  std::vector<int> out;
  for (absl::string_view item : absl::StrSplit(selector, ',', absl::SkipEmpty())) {
    if (item == "all") {
      for (size_t i = 0; i < links_.size(); ++i) out.push_back(i);
      continue;
    }
    absl::string_view name = item;
    int dirs = 3;  // bit 0: up, bit 1: down
    if (absl::ConsumeSuffix(&name, ".up")) {
      dirs = 1;
    } else if (absl::ConsumeSuffix(&name, ".down")) {
      dirs = 2;
    }
    bool found = false;
    for (size_t i = 0; i < ports_.size(); ++i) {
      if (ports_[i].spec.name != name) continue;
      found = true;
      if (dirs & 1) out.push_back(2 * i);
      if (dirs & 2) out.push_back(2 * i + 1);
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("no link '", item, "' (all, NAME, NAME.up, NAME.down)"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("no link selected");
  return out;
}

absl::Status TunRelay::SetLinks(absl::string_view selector,
                                absl::string_view spec) {
  absl::StatusOr<std::vector<int>> links = SelectLinks(selector);
  if (!links.ok()) return links.status();
  // Parse against every selected link first: all or nothing.
  std::vector<LinkConfig> configs;
  for (int l : *links) {
    LinkConfig c = links_[l].config();
    absl::Status st = ParseLinkSpec(spec, &c);
    if (!st.ok()) return st;
    configs.push_back(c);
  }
  for (size_t i = 0; i < links->size(); ++i) {
    links_[(*links)[i]].set_config(configs[i]);
  }
  return absl::OkStatus();
}

std::string TunRelay::StatsText() {
  std::string out =
      absl::StrCat("relay.unroutable_packets=", unroutable_,
                   "\nrelay.overflow_packets=", overflow_,
                   "\nrelay.write_errors=", write_errors_,
                   "\nrelay.in_flight_packets=", heap_.size(), "\n");
  int64_t now = NowNs();
  for (size_t l = 0; l < links_.size(); ++l) {
    const LinkStats& s = links_[l].stats();
    std::string n = LinkName(l);
    auto count = [&](absl::string_view key, const LinkStats::Count& c) {
      absl::StrAppend(&out, n, ".", key, "_packets=", c.packets, "\n", n, ".",
                      key, "_bytes=", c.bytes, "\n");
    };
    count("in", s.in);
    count("delivered", s.delivered);
    count("filtered", s.filtered);
    count("blackholed", s.blackholed);
    count("lost", s.lost);
    count("queue_drops", s.queue_drops);
    absl::StrAppend(&out, n, ".queue_bytes=", links_[l].QueuedBytes(now), "\n",
                    n, ".max_queue_bytes=", s.max_queue_bytes, "\n");
    for (int p = 0; p < kProtoCount; ++p) {
      std::string proto = ProtoName(static_cast<Proto>(p));
      count(absl::StrCat(proto, ".in"), s.proto_in[p]);
      count(absl::StrCat(proto, ".delivered"), s.proto_delivered[p]);
    }
  }
  return out;
}

std::string TunRelay::Command(absl::string_view line) {
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::StripAsciiWhitespace(line), ' ', absl::SkipEmpty());
  if (words.empty()) return "error empty command\n";
  absl::string_view cmd = words[0];
  auto err = [](const absl::Status& st) {
    return absl::StrCat("error ", st.message(), "\n");
  };
  if (cmd == "set" && words.size() == 3) {
    absl::Status st = SetLinks(words[1], words[2]);
    return st.ok() ? "ok\n" : err(st);
  }
  if ((cmd == "drop" || cmd == "pass") &&
      (words.size() == 2 || words.size() == 3)) {
    absl::StatusOr<uint32_t> mask = ParseProtoMask(words[1]);
    if (!mask.ok()) return err(mask.status());
    absl::StatusOr<std::vector<int>> links =
        SelectLinks(words.size() == 3 ? words[2] : "all");
    if (!links.ok()) return err(links.status());
    for (int l : *links) {
      LinkConfig c = links_[l].config();
      c.drop_mask = cmd == "drop" ? c.drop_mask | *mask : c.drop_mask & ~*mask;
      links_[l].set_config(c);
    }
    return "ok\n";
  }
  if (cmd == "freeze" && (words.size() == 2 || words.size() == 3)) {
    double seconds;
    if (!absl::SimpleAtod(words[1], &seconds) || !(seconds >= 0) ||
        seconds > 86400) {
      return "error bad seconds\n";
    }
    absl::StatusOr<std::vector<int>> links =
        SelectLinks(words.size() == 3 ? words[2] : "all");
    if (!links.ok()) return err(links.status());
    int64_t until = NowNs() + static_cast<int64_t>(seconds * 1e9);
    for (int l : *links) links_[l].FreezeUntil(until);
    return "ok\n";
  }
  if (cmd == "show" && words.size() == 1) {
    std::string out;
    for (size_t l = 0; l < links_.size(); ++l) {
      absl::StrAppend(&out, LinkName(l), " ",
                      LinkSpecString(links_[l].config()), "\n");
    }
    return out;
  }
  if (cmd == "stats" && words.size() == 1) return StatsText();
  if (cmd == "clear" && words.size() == 1) {
    for (LinkModel& l : links_) l.ClearStats();
    unroutable_ = overflow_ = write_errors_ = 0;
    return "ok\n";
  }
  if (cmd == "quit" && words.size() == 1) {
    stop_ = true;
    return "ok\n";
  }
  if (cmd == "help") return kCommandHelp;
  return absl::StrCat("error unknown or malformed command '", line, "'\n",
                      kCommandHelp);
}

void TunRelay::Push(int64_t due_ns, int link, int dst_port, Proto proto,
                    std::string data) {
  heap_.push_back(Event{due_ns, seq_++, link, dst_port, proto, std::move(data)});
  std::push_heap(heap_.begin(), heap_.end(), Later());
}

void TunRelay::Write(int port, absl::string_view data) {
  if (write(ports_[port].fd, data.data(), data.size()) < 0) ++write_errors_;
}

// The packet enters `link` (an up link first, then the destination's down
// link) at now_ns; copied only when it has to wait.
void TunRelay::Forward(int link, int dst_port, Proto proto,
                       absl::string_view data, int64_t now_ns) {
  for (;;) {
    LinkModel::Result r = links_[link].Admit(data.size(), proto, now_ns);
    if (r.verdict != LinkModel::Verdict::kPass) return;
    if (r.leave_ns > now_ns) {
      if (heap_.size() >= options_.max_in_flight) {
        ++overflow_;
        return;
      }
      Push(r.leave_ns, link, dst_port, proto, std::string(data));
      return;
    }
    if (!links_[link].Leave(data.size(), proto, now_ns)) return;
    if (link % 2 == 1) {  // a down link: into the destination namespace
      Write(dst_port, data);
      return;
    }
    link = 2 * dst_port + 1;
  }
}

void TunRelay::RunDue(int64_t now_ns) {
  while (!heap_.empty() && heap_.front().due_ns <= now_ns) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    Event e = std::move(heap_.back());
    heap_.pop_back();
    if (!links_[e.link].Leave(e.data.size(), e.proto, now_ns)) continue;
    if (e.link % 2 == 1) {
      Write(e.dst_port, e.data);
    } else {
      Forward(2 * e.dst_port + 1, e.dst_port, e.proto, e.data, now_ns);
    }
  }
}

void TunRelay::ReadPort(int port, int64_t now_ns) {
  // A bounded batch, so one busy port cannot starve the others or timers.
  read_buf_.resize(options_.mtu + 64);
  for (int i = 0; i < 64; ++i) {
    ssize_t n = read(ports_[port].fd, read_buf_.data(), read_buf_.size());
    if (n <= 0) return;
    absl::string_view packet(read_buf_.data(), static_cast<size_t>(n));
    IpPacketInfo info;
    int dst = -1;
    if (ParseIpPacket(reinterpret_cast<const uint8_t*>(packet.data()),
                      packet.size(), &info) &&
        info.version == 4) {
      for (size_t p = 0; p < ports_.size() && dst < 0; ++p) {
        for (const Ipv4Prefix& prefix : ports_[p].spec.prefixes) {
          if (prefix.Contains(info.dst_v4)) {
            dst = static_cast<int>(p);
            break;
          }
        }
      }
    }
    if (dst < 0 || dst == port) {
      ++unroutable_;
      continue;
    }
    Forward(2 * port, dst, info.proto, packet, now_ns);
  }
}

void TunRelay::HandleSignals() {
  signalfd_siginfo info;
  while (read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    if (info.ssi_signo == SIGUSR1) {
      printf("%s", StatsText().c_str());
    } else if (info.ssi_signo == SIGUSR2) {
      int64_t until =
          NowNs() + static_cast<int64_t>(options_.sigusr2_freeze_seconds * 1e9);
      for (LinkModel& l : links_) l.FreezeUntil(until);
      printf("tun_relay: frozen for %g s\n", options_.sigusr2_freeze_seconds);
    } else {
      stop_ = true;
    }
    fflush(stdout);
  }
}

void TunRelay::HandleControl() {
  for (;;) {
    int fd = accept4(control_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    // One short command per connection; a silent client costs at most 1 s.
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    std::string line;
    char buf[512];
    while (line.size() < 4096 && line.find('\n') == std::string::npos) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    line = line.substr(0, line.find('\n'));
    std::string reply = Command(line);
    size_t off = 0;
    while (off < reply.size()) {
      ssize_t n = write(fd, reply.data() + off, reply.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  }
}

absl::Status TunRelay::Run() {
  const int64_t end =
      NowNs() + static_cast<int64_t>(options_.max_seconds * 1e9);
  std::vector<pollfd> fds;
  for (const Port& p : ports_) fds.push_back({p.fd, POLLIN, 0});
  const size_t signal_index = fds.size();
  fds.push_back({signal_fd_, POLLIN, 0});
  if (control_fd_ >= 0) fds.push_back({control_fd_, POLLIN, 0});
  while (!stop_) {
    int64_t now = NowNs();
    RunDue(now);
    if (now >= end) break;
    int64_t wake = end;
    if (!heap_.empty()) wake = std::min(wake, heap_.front().due_ns);
    int64_t wait = std::max<int64_t>(0, wake - now);
    timespec ts{static_cast<time_t>(wait / 1000000000),
                static_cast<long>(wait % 1000000000)};
    if (ppoll(fds.data(), fds.size(), &ts, nullptr) < 0 && errno != EINTR) {
      return Errno("ppoll");
    }
    now = NowNs();
    RunDue(now);  // first what was due, then new arrivals (FIFO per link)
    for (size_t i = 0; i < ports_.size(); ++i) {
      if (fds[i].revents & POLLIN) ReadPort(static_cast<int>(i), now);
      if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        return absl::InternalError(
            absl::StrCat("TUN device of port ", ports_[i].spec.name, " failed"));
      }
    }
    if (fds[signal_index].revents & POLLIN) HandleSignals();
    if (control_fd_ >= 0 && (fds[signal_index + 1].revents & POLLIN)) {
      HandleControl();
    }
  }
  return absl::OkStatus();
}

}  // namespace moshx::netem
