#include "cmd/router/router.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "net/packet.h"
#include "net/packet_format.h"

namespace moshx::cmd::router {
namespace {

// The smallest datagram that can be an authentic moshx-mode one: header,
// timestamps and tag around an empty fragment (docs/protocol.md §3.2).
constexpr size_t kMinMoshxDatagram = net::PacketOverhead(net::WireMode::kMoshx);

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    net::EventLoop* loop, std::unique_ptr<net::DatagramSocket> socket, sys::ScopedFd listener,
    PeerUidFunction peer_uid, RouterConfig options) {
  std::unique_ptr<Router> r(new Router(loop, std::move(socket), std::move(listener),
                                       std::move(peer_uid), options));
  Router* self = r.get();
  absl::Status s = loop->WatchFd(self->socket_->fd(), net::EventLoop::kReadable,
                                 [self](uint32_t) { self->OnUdpReadable(); });
  if (!s.ok()) return s;
  if (self->listener_.valid()) {
    s = loop->WatchFd(self->listener_.get(), net::EventLoop::kReadable,
                      [self](uint32_t) { self->OnListenerReadable(); });
    if (!s.ok()) return s;
  }
  return r;
}

Router::Router(net::EventLoop* loop, std::unique_ptr<net::DatagramSocket> socket,
               sys::ScopedFd listener, PeerUidFunction peer_uid, RouterConfig options)
    : loop_(loop),
      socket_(std::move(socket)),
      listener_(std::move(listener)),
      peer_uid_(std::move(peer_uid)),
      options_(options),
      table_(options.limits) {
  in_.resize(kMaxFrameSize + 1);
}

Router::~Router() {
  loop_->UnwatchFd(socket_->fd());
  if (listener_.valid()) loop_->UnwatchFd(listener_.get());
  for (auto& [id, host] : hosts_) loop_->UnwatchFd(host.fd.get());
}

absl::Status Router::AddHost(sys::ScopedFd fd, uid_t uid) {
  if (hosts_.size() >= options_.max_hosts) {
    ++stats_.hosts_refused;
    return absl::ResourceExhaustedError("the router serves its maximum of hosts");
  }
  const HostId id = next_host_++;
  const int raw = fd.get();
  absl::Status s = loop_->WatchFd(raw, net::EventLoop::kReadable,
                                  [this, id](uint32_t) { OnHostReadable(id); });
  if (!s.ok()) return s;
  auto [it, inserted] = hosts_.emplace(id, Host{std::move(fd), uid});
  table_.AddHost(id, uid);
  ++stats_.hosts_accepted;
  // The router's address, for the host's CONNECT lines. A new connection's
  // buffer is empty, so this cannot find it full.
  absl::StatusOr<std::string> hello = EncodeFrame(HelloFrame(socket_->local_address()));
  if (hello.ok()) SendToHost(it->second, *hello);
  return absl::OkStatus();
}

void Router::RemoveHost(HostId id) {
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return;
  loop_->UnwatchFd(it->second.fd.get());
  table_.RemoveHost(id);
  hosts_.erase(it);  // closes the connection
}

void Router::OnListenerReadable() {
  for (int i = 0; i < options_.reads_per_wakeup; ++i) {
    sys::ScopedFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) return;  // EAGAIN, or an error the next wake-up retries
    absl::StatusOr<uid_t> uid = peer_uid_(fd.get());
    if (!uid.ok()) {
      ++stats_.hosts_refused;
      continue;  // closes it
    }
    // Over the limit the connection is closed and counted in AddHost.
    AddHost(std::move(fd), *uid).IgnoreError();
  }
}

bool Router::SendToHost(const Host& host, absl::string_view bytes) {
  return send(host.fd.get(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

void Router::OnUdpReadable() {
  for (int i = 0; i < options_.reads_per_wakeup; ++i) {
    absl::StatusOr<net::Datagram> d = socket_->ReceiveFrom();
    if (!d.ok()) {
      if (absl::IsDataLoss(d.status())) {
        ++stats_.dropped_oversize;
        continue;
      }
      return;  // Unavailable: nothing more to read
    }
    ++stats_.datagrams_in;
    if (d->payload.size() < kMinMoshxDatagram) {
      ++stats_.dropped_short;
      continue;
    }
    absl::StatusOr<uint64_t> cid = net::PacketCodec::PeekConnectionId(d->payload);
    std::optional<HostId> owner =
        cid.ok() ? table_.Route(*cid, d->from) : std::optional<HostId>();
    if (!owner.has_value()) {
      ++stats_.dropped_unknown_id;
      continue;
    }
    auto host = hosts_.find(*owner);
    if (host == hosts_.end() ||
        !EncodeDatagramFrame(d->from, d->payload, d->congestion_experienced, &out_).ok() ||
        !SendToHost(host->second, out_)) {
      ++stats_.dropped_host_busy;
      continue;
    }
    ++stats_.forwarded_in;
  }
}

void Router::OnHostReadable(HostId id) {
  for (int i = 0; i < options_.reads_per_wakeup; ++i) {
    auto it = hosts_.find(id);
    if (it == hosts_.end()) return;
    ssize_t n = recv(it->second.fd.get(), in_.data(), in_.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      RemoveHost(id);  // the host went away: its ids go with it
      return;
    }
    if (n < 0) return;
    if (static_cast<size_t>(n) > kMaxFrameSize) {
      ++stats_.bad_frames;  // truncated: larger than any frame
      continue;
    }
    HandleFrame(id, it->second, absl::string_view(in_.data(), static_cast<size_t>(n)));
  }
}

void Router::HandleFrame(HostId id, Host& host, absl::string_view bytes) {
  absl::StatusOr<Frame> frame = ParseFrame(bytes);
  if (!frame.ok()) {
    ++stats_.bad_frames;
    return;
  }
  switch (frame->type) {
    case FrameType::kClaim: {
      ++stats_.claims;
      absl::Status s = table_.Claim(id, frame->id);
      Frame reply = ClaimedFrame(frame->id);
      if (!s.ok()) {
        ++stats_.claims_refused;
        reply = RefusedFrame(frame->id, absl::IsPermissionDenied(s)
                                            ? RefuseReason::kOtherUser
                                            : table_.ids_of_user(host.uid) >=
                                                      options_.limits.max_ids_per_user
                                                  ? RefuseReason::kUserFull
                                                  : RefuseReason::kTableFull);
      }
      absl::StatusOr<std::string> bytes_out = EncodeFrame(reply);
      // A host that does not read its replies learns nothing; it is not
      // waited for (it asks again or sends nothing).
      if (bytes_out.ok()) SendToHost(host, *bytes_out);
      return;
    }
    case FrameType::kForget:
      table_.Forget(id, frame->id);
      return;
    case FrameType::kDatagram: {
      absl::StatusOr<uint64_t> cid = net::PacketCodec::PeekConnectionId(frame->datagram);
      if (!cid.ok() || !table_.MaySend(id, *cid, frame->address)) {
        ++stats_.dropped_out_refused;
        return;
      }
      if (!socket_->SendTo(frame->address, frame->datagram).ok()) {
        ++stats_.dropped_out_send_error;
        return;
      }
      ++stats_.datagrams_out;
      return;
    }
    case FrameType::kClaimed:
    case FrameType::kRefused:
    case FrameType::kHello:
      ++stats_.bad_frames;  // the router's own frames, never a host's
      return;
  }
}

}  // namespace moshx::cmd::router
