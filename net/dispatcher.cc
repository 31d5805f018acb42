#include "net/dispatcher.h"

#include <utility>

#include "absl/base/internal/raw_logging.h"

namespace moshx::net {
namespace {

size_t MtuFor(AddressFamily family) {
  return family == AddressFamily::kIPv4 ? kMtuIpv4 : kMtuIpv6;
}

// The cleartext connection id: the first 8 bytes, big-endian
// (net/packet_format.h). The caller checked the length.
uint64_t ReadConnectionId(const std::string& datagram) {
  uint64_t id = 0;
  for (size_t i = 0; i < kConnectionIdSize; ++i) {
    id = (id << 8) | static_cast<uint8_t>(datagram[i]);
  }
  return id;
}

}  // namespace

// One association's Path: sends from the dispatcher's socket to its peer.
class Dispatcher::Association : public Path {
 public:
  Association(Dispatcher* dispatcher, uint64_t id, std::optional<Address> peer)
      : dispatcher_(dispatcher),
        id_(id),
        peer_(peer),
        mtu_(MtuFor(peer ? peer->family() : dispatcher->socket_->family())) {}
  ~Association() override { dispatcher_->Remove(this); }

  uint64_t id() const { return id_; }
  void Deliver(const Datagram& d) {
    if (handler_) handler_(d);
  }

  void set_receive_handler(ReceiveHandler handler) override { handler_ = std::move(handler); }
  absl::Status Send(absl::string_view datagram) override {
    if (!peer_) return absl::FailedPreconditionError("peer address not known yet");
    absl::Status status = dispatcher_->socket_->SendTo(*peer_, datagram);
    if (!status.ok()) {
      ++stats_.send_errors;
      if (IsDatagramTooLarge(status) && mtu_ != kMtuFallback) {
        mtu_ = kMtuFallback;
        ++stats_.mtu_reductions;
      }
    }
    return status;
  }
  size_t mtu() const override { return mtu_; }
  std::optional<Address> peer() const override { return peer_; }
  void SetPeer(const Address& peer) override { peer_ = peer; }
  void ClearPeer() override { peer_.reset(); }
  Address local_address() const override { return dispatcher_->socket_->local_address(); }
  PathStats stats() const override { return stats_; }

 private:
  Dispatcher* const dispatcher_;
  const uint64_t id_;
  std::optional<Address> peer_;
  size_t mtu_;
  ReceiveHandler handler_;
  PathStats stats_;
};

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Create(
    EventLoop* loop, std::unique_ptr<DatagramSocket> socket, WireMode mode) {
  if (socket == nullptr) return absl::InvalidArgumentError("Dispatcher needs a socket");
  std::unique_ptr<Dispatcher> d(new Dispatcher(loop, std::move(socket), mode));
  Dispatcher* raw = d.get();
  absl::Status s = loop->WatchFd(d->socket_->fd(), EventLoop::kReadable,
                                 [raw](uint32_t) { raw->OnReadable(); });
  if (!s.ok()) return s;
  return d;
}

Dispatcher::Dispatcher(EventLoop* loop, std::unique_ptr<DatagramSocket> socket, WireMode mode)
    : loop_(loop), socket_(std::move(socket)), mode_(mode) {
  buffer_.payload.reserve(kMaxReceiveSize);
}

Dispatcher::~Dispatcher() {
  // Associations outliving the dispatcher would call Remove() on a dead
  // object: the header makes that the caller's error.
  ABSL_RAW_CHECK(by_id_.empty() && only_ == nullptr, "association outlives its Dispatcher");
  loop_->UnwatchFd(socket_->fd());
}

absl::StatusOr<std::unique_ptr<Path>> Dispatcher::AddAssociation(uint64_t connection_id,
                                                                 std::optional<Address> peer) {
  if (mode_ == WireMode::kMosh) {
    if (only_ != nullptr) {
      return absl::AlreadyExistsError("a mosh-mode socket carries one association");
    }
    auto a = std::make_unique<Association>(this, connection_id, peer);
    only_ = a.get();
    return std::unique_ptr<Path>(std::move(a));
  }
  if (by_id_.contains(connection_id)) {
    return absl::AlreadyExistsError("connection id already in use on this socket");
  }
  auto a = std::make_unique<Association>(this, connection_id, peer);
  by_id_.emplace(connection_id, a.get());
  return std::unique_ptr<Path>(std::move(a));
}

size_t Dispatcher::association_count() const {
  return mode_ == WireMode::kMosh ? (only_ != nullptr ? 1 : 0) : by_id_.size();
}

void Dispatcher::Remove(Association* association) {
  if (only_ == association) {
    only_ = nullptr;
    return;
  }
  auto it = by_id_.find(association->id());
  if (it != by_id_.end() && it->second == association) by_id_.erase(it);
}

void Dispatcher::OnReadable() {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    absl::Status s = socket_->ReceiveInto(&buffer_);
    if (absl::IsUnavailable(s)) return;
    if (absl::IsDataLoss(s)) {
      ++stats_.dropped_oversize;
      continue;
    }
    if (!s.ok()) {
      ++stats_.receive_errors;
      continue;
    }
    ++stats_.datagrams_received;
    Route();
  }
}

void Dispatcher::Route() {
  Association* to = nullptr;
  if (mode_ == WireMode::kMosh) {
    to = only_;
    if (to == nullptr) {
      ++stats_.dropped_no_association;
      return;
    }
  } else {
    if (buffer_.payload.size() < HeaderSize(WireMode::kMoshx) + kTagSize) {
      ++stats_.dropped_short;
      return;
    }
    auto it = by_id_.find(ReadConnectionId(buffer_.payload));
    if (it == by_id_.end()) {
      ++stats_.dropped_unknown_id;
      return;
    }
    to = it->second;
  }
  ++stats_.routed;
  to->Deliver(buffer_);
}

}  // namespace moshx::net
