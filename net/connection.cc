#include "net/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moshx::net {
namespace {

// Datagrams read per readable callback: drains bursts without starving the
// other sockets and timers of the loop.
constexpr int kMaxReadsPerWakeup = 64;

size_t MtuFor(AddressFamily family) {
  return family == AddressFamily::kIPv4 ? kMtuIpv4 : kMtuIpv6;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Create(
    EventLoop* loop, const Clock* clock, std::unique_ptr<DatagramSocket> socket,
    DatagramSocketFactory* socket_factory, PacketCodec codec, Role role,
    std::optional<Address> server_address) {
  if (socket == nullptr) return absl::InvalidArgumentError("Connection needs a socket");
  if ((role == Role::kClient) != server_address.has_value()) {
    return absl::InvalidArgumentError(
        "a client needs the server address; a server must not have one");
  }
  std::unique_ptr<Connection> c(new Connection(loop, clock, socket_factory,
                                               std::move(codec), role, server_address));
  c->mtu_ = MtuFor(server_address ? server_address->family() : socket->family());
  absl::Status s = c->AddSocket(std::move(socket));
  if (!s.ok()) return s;
  return c;
}

Connection::Connection(EventLoop* loop, const Clock* clock,
                       DatagramSocketFactory* factory, PacketCodec codec, Role role,
                       std::optional<Address> server_address)
    : loop_(loop),
      clock_(clock),
      socket_factory_(factory),
      codec_(std::move(codec)),
      role_(role),
      send_direction_(role == Role::kClient ? Direction::kToServer : Direction::kToClient),
      remote_(server_address),
      mtu_(kMtuFallback),
      last_roundtrip_success_(clock->Now()),
      last_port_choice_(clock->Now()) {}

Connection::~Connection() {
  for (const OwnedSocket& s : sockets_) loop_->UnwatchFd(s.socket->fd());
}

absl::Status Connection::AddSocket(std::unique_ptr<DatagramSocket> socket) {
  DatagramSocket* raw = socket.get();
  absl::Status s = loop_->WatchFd(raw->fd(), EventLoop::kReadable,
                                  [this, raw](uint32_t) { OnReadable(raw); });
  if (!s.ok()) return s;
  sockets_.push_back({std::move(socket), clock_->Now()});
  return absl::OkStatus();
}

size_t Connection::max_fragment_contents() const {
  return MaxFragmentContents(mtu_, codec_.mode());
}

absl::Status Connection::Send(absl::string_view payload) {
  if (!remote_) return absl::FailedPreconditionError("peer address not known yet");
  if (next_seq_ > kSeqMask) return absl::ResourceExhaustedError("Counter wrapped");
  size_t plaintext = kTimestampsSize + payload.size();
  blocks_sealed_ += (plaintext + 15) / 16;
  if (blocks_sealed_ > kMaxBlocksPerKey) {
    return absl::ResourceExhaustedError("Encrypted 2^47 blocks.");
  }
  MonoTime now = clock_->Now();
  Packet packet;
  packet.direction = send_direction_;
  packet.seq = next_seq_++;
  packet.timestamp = Timestamp16(now);
  packet.timestamp_reply = echo_.TakeReply(now);
  packet.payload = std::string(payload);
  absl::Status status = sockets_.back().socket->SendTo(*remote_, codec_.Seal(packet));
  if (status.ok()) {
    ++stats_.datagrams_sent;
  } else {
    ++stats_.send_errors;
    if (IsDatagramTooLarge(status) && mtu_ != kMtuFallback) {
      mtu_ = kMtuFallback;
      ++stats_.mtu_reductions;
    }
  }
  AfterSend(now);
  return status;
}

void Connection::AfterSend(MonoTime now) {
  if (role_ == Role::kServer) {
    if (remote_ && last_heard_ && now - *last_heard_ > kServerAssociationTimeout) {
      remote_.reset();
      ++stats_.detaches;
      if (on_remote_change_) on_remote_change_(std::nullopt);
    }
    return;
  }
  MaybeHopPort(now);
  PruneOldSockets(now);
}

void Connection::MaybeHopPort(MonoTime now) {
  if (socket_factory_ == nullptr) return;
  if (now - last_port_choice_ <= kPortHopInterval ||
      now - last_roundtrip_success_ <= kPortHopInterval) {
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

void Connection::PruneOldSockets(MonoTime now) {
  bool newest_is_old = now - sockets_.back().opened > kMaxOldSocketAge;
  while (sockets_.size() > 1 && (newest_is_old || sockets_.size() > kMaxPortsOpen)) {
    loop_->UnwatchFd(sockets_.front().socket->fd());
    sockets_.erase(sockets_.begin());
  }
}

void Connection::OnReadable(DatagramSocket* socket) {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    absl::StatusOr<Datagram> d = socket->ReceiveFrom();
    if (absl::IsUnavailable(d.status())) return;
    if (!d.ok()) {
      ++stats_.dropped_oversize;
      continue;
    }
    Receive(*std::move(d));
    // The handler may have sent, and a send may close old sockets.
    bool still_open = false;
    for (const OwnedSocket& s : sockets_) still_open |= s.socket.get() == socket;
    if (!still_open) return;
  }
}

void Connection::CountDrop(const absl::Status& status) {
  if (IsAuthenticationFailure(status)) {
    ++stats_.dropped_auth;
  } else if (status.code() == absl::StatusCode::kPermissionDenied) {
    ++stats_.dropped_direction;
  } else {
    ++stats_.dropped_malformed;
  }
}

void Connection::Receive(Datagram datagram) {
  Direction expected =
      role_ == Role::kServer ? Direction::kToServer : Direction::kToClient;
  absl::StatusOr<Packet> packet = codec_.Open(datagram.payload, expected);
  if (!packet.ok()) {
    CountDrop(packet.status());
    return;
  }
  ++stats_.datagrams_received;
  if (packet->seq >= expected_seq_) {
    MonoTime now = clock_->Now();
    expected_seq_ = packet->seq + 1;
    echo_.OnReceived(now, packet->timestamp, datagram.congestion_experienced);
    rtt_.AddReply(now, packet->timestamp_reply);
    last_heard_ = now;
    if (role_ == Role::kServer && remote_ != datagram.from) {
      remote_ = datagram.from;
      ++stats_.roams;
      if (on_remote_change_) on_remote_change_(remote_);
    }
  } else {
    ++stats_.out_of_order;
  }
  if (handler_) handler_(std::move(packet->payload));
}

}  // namespace moshx::net
