#include "net/udp_path.h"

#include <utility>

#include "net/packet_format.h"

namespace moshx::net {
namespace {

// Datagrams read per readable callback: drains bursts without starving the
// other sockets and timers of the loop.
constexpr int kMaxReadsPerWakeup = 64;

size_t MtuFor(AddressFamily family) {
  return family == AddressFamily::kIPv4 ? kMtuIpv4 : kMtuIpv6;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UdpPath>> UdpPath::Create(
    EventLoop* loop, const Clock* clock, std::unique_ptr<DatagramSocket> socket,
    DatagramSocketFactory* socket_factory, std::optional<Address> peer) {
  if (socket == nullptr) return absl::InvalidArgumentError("UdpPath needs a socket");
  std::unique_ptr<UdpPath> path(new UdpPath(loop, clock, socket_factory, peer));
  path->mtu_ = MtuFor(peer ? peer->family() : socket->family());
  absl::Status s = path->AddSocket(std::move(socket));
  if (!s.ok()) return s;
  return path;
}

UdpPath::UdpPath(EventLoop* loop, const Clock* clock, DatagramSocketFactory* factory,
                 std::optional<Address> peer)
    : loop_(loop),
      clock_(clock),
      socket_factory_(factory),
      peer_(peer),
      mtu_(kMtuFallback),
      last_port_choice_(clock->Now()) {}

UdpPath::~UdpPath() {
  for (const OwnedSocket& s : sockets_) loop_->UnwatchFd(s.socket->fd());
}

absl::Status UdpPath::AddSocket(std::unique_ptr<DatagramSocket> socket) {
  DatagramSocket* raw = socket.get();
  absl::Status s = loop_->WatchFd(raw->fd(), EventLoop::kReadable,
                                  [this, raw](uint32_t) { OnReadable(raw); });
  if (!s.ok()) return s;
  sockets_.push_back({std::move(socket), clock_->Now()});
  return absl::OkStatus();
}

absl::Status UdpPath::Send(absl::string_view datagram) {
  if (!peer_) return absl::FailedPreconditionError("peer address not known yet");
  absl::Status status = sockets_.back().socket->SendTo(*peer_, datagram);
  if (!status.ok()) {
    ++stats_.send_errors;
    if (IsDatagramTooLarge(status) && mtu_ != kMtuFallback) {
      mtu_ = kMtuFallback;
      ++stats_.mtu_reductions;
    }
  }
  return status;
}

void UdpPath::AfterSend(MonoTime now, MonoTime last_roundtrip_success) {
  MaybeHopPort(now, last_roundtrip_success);
  PruneOldSockets(now);
}

void UdpPath::MaybeHopPort(MonoTime now, MonoTime last_roundtrip_success) {
  if (socket_factory_ == nullptr) return;
  if (now - last_port_choice_ <= kPortHopInterval ||
      now - last_roundtrip_success <= kPortHopInterval) {
    return;
  }
  last_port_choice_ = now;
  absl::StatusOr<std::unique_ptr<DatagramSocket>> s =
      socket_factory_->Open(sockets_.back().socket->family());
  if (!s.ok() || !AddSocket(std::move(*s)).ok()) {
    ++stats_.send_errors;  // keep using the old socket; retry after the interval
    return;
  }
  ++stats_.port_hops;
}

void UdpPath::PruneOldSockets(MonoTime now) {
  bool newest_is_old = now - sockets_.back().opened > kMaxOldSocketAge;
  while (sockets_.size() > 1 && (newest_is_old || sockets_.size() > kMaxPortsOpen)) {
    loop_->UnwatchFd(sockets_.front().socket->fd());
    sockets_.erase(sockets_.begin());
  }
}

void UdpPath::OnReadable(DatagramSocket* socket) {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    absl::StatusOr<Datagram> d = socket->ReceiveFrom();
    if (absl::IsUnavailable(d.status())) return;
    if (!d.ok()) {
      ++stats_.dropped_oversize;
      continue;
    }
    if (handler_) handler_(*std::move(d));
    // The handler may have sent, and a send may close old sockets.
    bool still_open = false;
    for (const OwnedSocket& s : sockets_) still_open |= s.socket.get() == socket;
    if (!still_open) return;
  }
}

}  // namespace moshx::net
