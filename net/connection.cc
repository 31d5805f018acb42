#include "net/connection.h"

#include <utility>

namespace moshx::net {

uint64_t TimeBasedFirstSequence(absl::Time now) {
  constexpr uint64_t kSequencesPerMicrosecond = 1024;
  const int64_t micros = absl::ToUnixMicros(now);
  if (micros <= 0) return 0;
  if (static_cast<uint64_t>(micros) > kSeqMask / kSequencesPerMicrosecond) {
    return kSeqMask / kSequencesPerMicrosecond * kSequencesPerMicrosecond;
  }
  return static_cast<uint64_t>(micros) * kSequencesPerMicrosecond;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Create(const Clock* clock,
                                                               std::unique_ptr<Path> path,
                                                               PacketCodec codec, Role role,
                                                               uint64_t first_seq) {
  if (path == nullptr) return absl::InvalidArgumentError("Connection needs a path");
  if (role == Role::kClient && !path->peer().has_value()) {
    return absl::InvalidArgumentError("a client needs the server address");
  }
  if (first_seq > kSeqMask) {
    return absl::InvalidArgumentError("first sequence number beyond 2^63 - 1");
  }
  return std::unique_ptr<Connection>(
      new Connection(clock, std::move(path), std::move(codec), role, first_seq));
}

Connection::Connection(const Clock* clock, std::unique_ptr<Path> path, PacketCodec codec,
                       Role role, uint64_t first_seq)
    : clock_(clock),
      path_(std::move(path)),
      codec_(std::move(codec)),
      role_(role),
      send_direction_(role == Role::kClient ? Direction::kToServer : Direction::kToClient),
      next_seq_(first_seq),
      last_roundtrip_success_(clock->Now()) {
  path_->set_receive_handler([this](Datagram d) { Receive(std::move(d)); });
}

Connection::~Connection() = default;

ConnectionStats Connection::stats() const {
  ConnectionStats s = stats_;
  PathStats p = path_->stats();
  s.dropped_oversize = p.dropped_oversize;
  s.send_errors = p.send_errors;
  s.mtu_reductions = p.mtu_reductions;
  s.port_hops = p.port_hops;
  return s;
}

size_t Connection::max_fragment_contents() const {
  return MaxFragmentContents(path_->mtu(), codec_.mode());
}

absl::Status Connection::Send(absl::string_view payload) {
  if (!path_->peer()) return absl::FailedPreconditionError("peer address not known yet");
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
  absl::Status status = path_->Send(codec_.Seal(packet));
  if (status.ok()) ++stats_.datagrams_sent;
  AfterSend(now);
  return status;
}

void Connection::AfterSend(MonoTime now) {
  if (role_ == Role::kServer) {
    if (path_->peer() && last_heard_ && now - *last_heard_ > kServerAssociationTimeout) {
      path_->ClearPeer();
      ++stats_.detaches;
      if (on_remote_change_) on_remote_change_(std::nullopt);
    }
    return;
  }
  path_->AfterSend(now, last_roundtrip_success_);
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
    path_->OnAuthentic(now);
    if (role_ == Role::kServer && path_->peer() != datagram.from) {
      path_->SetPeer(datagram.from);
      ++stats_.roams;
      if (on_remote_change_) on_remote_change_(datagram.from);
    }
  } else {
    ++stats_.out_of_order;
  }
  if (handler_) handler_(std::move(packet->payload));
}

}  // namespace moshx::net
