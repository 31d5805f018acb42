#include "net/testing/simulated_network.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"

namespace moshx::net::testing {

struct SimulatedNetwork::Event {
  // Alarm when `alarm` is set, else a datagram copy.
  std::function<void()> alarm;
  AlarmId alarm_id = 0;
  Datagram datagram;
  Address to;
  LinkStats* stats = nullptr;  // null for injected datagrams
};

class SimulatedNetwork::SimSocket : public DatagramSocket {
 public:
  // Datagrams a socket buffers before dropping (a kernel's rcvbuf).
  static constexpr size_t kMaxQueued = size_t{1} << 16;

  SimSocket(SimulatedNetwork* net, Host* host, uint16_t port, int fd)
      : net_(net), host_(host), port_(port), fd_(fd) {}
  ~SimSocket() override { net_->CloseSocket(this); }

  int fd() const override { return fd_; }
  Address local_address() const override { return host_->ip().WithPort(port_); }
  AddressFamily family() const override { return host_->ip().family(); }
  absl::Status SendTo(const Address& to, absl::string_view payload) override {
    return net_->Send(this, to, payload);
  }
  absl::StatusOr<Datagram> ReceiveFrom() override {
    if (queue_.empty()) return absl::UnavailableError("no datagram waiting");
    Datagram d = std::move(queue_.front());
    queue_.pop_front();
    return d;
  }

  Host* host() const { return host_; }
  std::deque<Datagram>& queue() { return queue_; }

 private:
  SimulatedNetwork* net_;
  Host* host_;
  uint16_t port_;
  int fd_;
  std::deque<Datagram> queue_;
};

SimulatedNetwork::SimulatedNetwork(uint64_t seed) : rng_(seed) {}
SimulatedNetwork::~SimulatedNetwork() = default;

SimulatedNetwork::Host* SimulatedNetwork::AddHost(absl::string_view ip) {
  absl::StatusOr<Address> address = Address::Parse(ip, 0);
  assert(address.ok());
  hosts_.push_back(std::make_unique<Host>(this, *address));
  return hosts_.back().get();
}

SimulatedNetwork::LinkState& SimulatedNetwork::Link(const Host* from, const Host* to) {
  return links_[{from, to}];
}

void SimulatedNetwork::SetLink(const Host* from, const Host* to, const LinkParams& params) {
  Link(from, to).params = params;
}

void SimulatedNetwork::SetLinks(const Host* a, const Host* b, const LinkParams& params) {
  SetLink(a, b, params);
  SetLink(b, a, params);
}

const LinkStats& SimulatedNetwork::stats(const Host* from, const Host* to) {
  return Link(from, to).stats;
}

void SimulatedNetwork::Rebind(Host* host, absl::string_view new_ip) {
  absl::StatusOr<Address> address = Address::Parse(new_ip, 0);
  assert(address.ok());
  std::vector<SimSocket*> moved;
  for (auto it = bound_.begin(); it != bound_.end();) {
    if (it->second->host() == host) {
      moved.push_back(it->second);
      bound_.erase(it++);
    } else {
      ++it;
    }
  }
  host->ip_ = *address;
  for (SimSocket* s : moved) bound_[s->local_address()] = s;
}

absl::StatusOr<std::unique_ptr<DatagramSocket>> SimulatedNetwork::OpenSocket(
    Host* host, uint16_t port) {
  if (port == 0) {
    while (bound_.contains(host->ip().WithPort(host->next_ephemeral_))) {
      ++host->next_ephemeral_;
    }
    port = host->next_ephemeral_++;
  }
  Address local = host->ip().WithPort(port);
  if (bound_.contains(local)) {
    return absl::AlreadyExistsError(absl::StrCat(local.ToString(), " is in use"));
  }
  auto socket = std::make_unique<SimSocket>(this, host, port, next_fd_++);
  bound_[local] = socket.get();
  sockets_by_fd_[socket->fd()] = socket.get();
  return std::unique_ptr<DatagramSocket>(std::move(socket));
}

void SimulatedNetwork::CloseSocket(SimSocket* socket) {
  bound_.erase(socket->local_address());
  sockets_by_fd_.erase(socket->fd());
  watches_.erase(socket->fd());
}

const SimulatedNetwork::Host* SimulatedNetwork::HostAt(const Address& ip) const {
  for (const auto& h : hosts_) {
    if (h->ip().family() == ip.family() && h->ip().ip_bytes() == ip.ip_bytes()) {
      return h.get();
    }
  }
  return nullptr;
}

bool SimulatedNetwork::Lose(const LinkParams& p, bool& bad_state) {
  std::uniform_real_distribution<double> u(0, 1);
  if (!p.bursty) return p.loss > 0 && u(rng_) < p.loss;
  const GilbertElliott& ge = p.gilbert_elliott;
  if (bad_state ? u(rng_) < ge.p_bad_to_good : u(rng_) < ge.p_good_to_bad) {
    bad_state = !bad_state;
  }
  return u(rng_) < (bad_state ? ge.loss_in_bad : ge.loss_in_good);
}

absl::Status SimulatedNetwork::Send(SimSocket* from, const Address& to,
                                    absl::string_view payload) {
  if (tap_) tap_(now_, from->local_address(), to, payload);
  LinkState& link = Link(from->host(), HostAt(to));
  const LinkParams& p = link.params;
  if (payload.size() > p.mtu) {
    ++link.stats.too_large;
    if (p.mtu_behavior == MtuBehavior::kEmsgsize) {
      return DatagramTooLargeError(payload.size());
    }
    return absl::OkStatus();
  }
  ++link.stats.sent;
  if (Lose(p, link.bad)) {
    ++link.stats.lost;
    return absl::OkStatus();
  }
  absl::Duration queued = absl::ZeroDuration();
  if (p.rate_bits_per_second > 0) {
    MonoTime start = std::max(now_, link.busy_until);
    double wire_bytes = static_cast<double>(payload.size() + p.header_bytes);
    double backlog_bytes =
        absl::ToDoubleSeconds(start - now_) * p.rate_bits_per_second / 8;
    if (p.queue_bytes > 0 && backlog_bytes + wire_bytes > static_cast<double>(p.queue_bytes)) {
      ++link.stats.queue_drops;
      return absl::OkStatus();
    }
    link.busy_until = start + absl::Seconds(wire_bytes * 8 / p.rate_bits_per_second);
    queued = link.busy_until - now_;
  }
  std::uniform_real_distribution<double> u(0, 1);
  int copies = 1;
  if (p.duplicate > 0 && u(rng_) < p.duplicate) {
    ++copies;
    ++link.stats.duplicated;
  }
  for (int i = 0; i < copies; ++i) {
    absl::Duration delay = queued + p.delay;
    if (p.jitter > absl::ZeroDuration()) {
      std::uniform_int_distribution<int64_t> j(0, absl::ToInt64Microseconds(p.jitter));
      delay += absl::Microseconds(j(rng_));
    }
    if (p.reorder > 0 && u(rng_) < p.reorder) {
      delay += p.reorder_delay;
      ++link.stats.reordered;
    }
    auto event = std::make_unique<Event>();
    bool ce = p.congestion_mark > 0 && u(rng_) < p.congestion_mark;
    event->datagram = Datagram{std::string(payload), from->local_address(), ce};
    event->to = to;
    event->stats = &link.stats;
    events_[{now_ + delay, next_event_seq_++}] = std::move(event);
  }
  return absl::OkStatus();
}

void SimulatedNetwork::Inject(const Address& from, const Address& to,
                              std::string payload, absl::Duration delay) {
  auto event = std::make_unique<Event>();
  event->datagram = Datagram{std::move(payload), from, false};
  event->to = to;
  events_[{now_ + delay, next_event_seq_++}] = std::move(event);
}

absl::Status SimulatedNetwork::WatchFd(int fd, uint32_t events, FdCallback callback) {
  if (!sockets_by_fd_.contains(fd)) {
    return absl::InvalidArgumentError(
        absl::StrCat("fd ", fd, " is not a simulated socket"));
  }
  if (events & kReadable) {
    watches_[fd] = std::move(callback);
  } else {
    watches_.erase(fd);
  }
  return absl::OkStatus();
}

void SimulatedNetwork::UnwatchFd(int fd) { watches_.erase(fd); }

EventLoop::AlarmId SimulatedNetwork::ScheduleAlarm(MonoTime deadline,
                                                   std::function<void()> callback) {
  auto event = std::make_unique<Event>();
  event->alarm = std::move(callback);
  AlarmId id = next_alarm_id_++;
  event->alarm_id = id;
  std::pair<MonoTime, uint64_t> key{std::max(deadline, now_), next_event_seq_++};
  events_[key] = std::move(event);
  alarm_keys_[id] = key;
  return id;
}

bool SimulatedNetwork::CancelAlarm(AlarmId id) {
  auto it = alarm_keys_.find(id);
  if (it == alarm_keys_.end()) return false;
  events_.erase(it->second);
  alarm_keys_.erase(it);
  return true;
}

absl::Status SimulatedNetwork::WatchSignal(int signo, std::function<void()> callback) {
  signal_watches_[signo] = std::move(callback);
  return absl::OkStatus();
}

void SimulatedNetwork::RaiseSignal(int signo) { raised_signals_.push_back(signo); }

bool SimulatedNetwork::DeliverReadable() {
  std::vector<int> ready;
  for (const auto& [fd, callback] : watches_) {
    auto it = sockets_by_fd_.find(fd);
    if (it != sockets_by_fd_.end() && !it->second->queue().empty()) ready.push_back(fd);
  }
  std::sort(ready.begin(), ready.end());  // deterministic order
  for (int fd : ready) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) continue;
    FdCallback callback = it->second;  // copy: may unwatch itself
    callback(kReadable);
  }
  return !ready.empty();
}

void SimulatedNetwork::ProcessEventsAt(MonoTime t) {
  std::vector<std::pair<MonoTime, uint64_t>> due;
  for (auto it = events_.begin(); it != events_.end() && it->first.first <= t; ++it) {
    due.push_back(it->first);
  }
  for (const auto& key : due) {
    auto it = events_.find(key);
    if (it == events_.end()) continue;  // cancelled meanwhile
    std::unique_ptr<Event> event = std::move(it->second);
    events_.erase(it);
    ++events_processed_;
    if (event->alarm) {
      alarm_keys_.erase(event->alarm_id);
      event->alarm();
      continue;
    }
    auto dest = bound_.find(event->to);
    if (dest == bound_.end() || dest->second->queue().size() >= SimSocket::kMaxQueued) {
      if (event->stats) ++event->stats->unroutable;
      ++unroutable_;
      continue;
    }
    if (event->stats) ++event->stats->delivered;
    dest->second->queue().push_back(std::move(event->datagram));
  }
}

absl::Status SimulatedNetwork::RunOnce(absl::Duration timeout) {
  ++steps_;
  if (!raised_signals_.empty()) {
    std::vector<int> raised;
    raised.swap(raised_signals_);
    for (int signo : raised) {
      auto it = signal_watches_.find(signo);
      if (it != signal_watches_.end()) it->second();
    }
    return absl::OkStatus();
  }
  if (DeliverReadable()) return absl::OkStatus();
  MonoTime limit = timeout == absl::InfiniteDuration() ? MonoTime::Infinite() : now_ + timeout;
  if (events_.empty() || events_.begin()->first.first > limit) {
    if (!limit.is_infinite()) now_ = std::max(now_, limit);
    return absl::OkStatus();
  }
  now_ = std::max(now_, events_.begin()->first.first);
  ProcessEventsAt(now_);
  DeliverReadable();
  return absl::OkStatus();
}

void SimulatedNetwork::RunFor(absl::Duration duration) {
  MonoTime deadline = now_ + duration;
  RunUntil([] { return false; }, duration);
  now_ = std::max(now_, deadline);
}

bool SimulatedNetwork::RunUntil(const std::function<bool()>& done, absl::Duration limit) {
  MonoTime deadline = now_ + limit;
  while (!done()) {
    bool readable = false;
    for (const auto& [fd, callback] : watches_) {
      auto it = sockets_by_fd_.find(fd);
      if (it != sockets_by_fd_.end() && !it->second->queue().empty()) readable = true;
    }
    bool event_due = !events_.empty() && events_.begin()->first.first <= deadline;
    if (!readable && !event_due && raised_signals_.empty()) {
      now_ = std::max(now_, deadline);
      return done();
    }
    RunOnce(deadline - now_).IgnoreError();
  }
  return true;
}

absl::StatusOr<std::unique_ptr<DatagramSocket>> SimulatedNetwork::Host::Bind(uint16_t port) {
  return network_->OpenSocket(this, port);
}

absl::StatusOr<std::unique_ptr<DatagramSocket>> SimulatedNetwork::Host::Open(
    AddressFamily family) {
  if (family != ip_.family()) {
    return absl::InvalidArgumentError("host has no address of that family");
  }
  return network_->OpenSocket(this, 0);
}

}  // namespace moshx::net::testing
