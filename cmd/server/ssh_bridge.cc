#include "cmd/server/ssh_bridge.h"

#include <utility>

namespace moshx::cmd {
namespace {

constexpr int kMaxPerTurn = 64;

}  // namespace

absl::StatusOr<std::unique_ptr<SshBridge>> SshBridge::Create(
    net::EventLoop* loop, std::unique_ptr<net::StreamPath> stream,
    std::unique_ptr<net::DatagramSocket> socket, const net::Address& session) {
  std::unique_ptr<SshBridge> bridge(
      new SshBridge(loop, std::move(stream), std::move(socket), session));
  SshBridge* b = bridge.get();
  absl::Status watched = loop->WatchFd(b->socket_->fd(), net::EventLoop::kReadable,
                                       [b](uint32_t) { b->FromSocket(); });
  if (!watched.ok()) {
    bridge->socket_.reset();  // not watched: nothing to unwatch
    return watched;
  }
  b->stream_->set_receive_handler([b](net::Datagram d) { b->FromStream(std::move(d)); });
  return bridge;
}

SshBridge::SshBridge(net::EventLoop* loop, std::unique_ptr<net::StreamPath> stream,
                     std::unique_ptr<net::DatagramSocket> socket, const net::Address& session)
    : loop_(loop), stream_(std::move(stream)), socket_(std::move(socket)), session_(session) {
  received_.payload.reserve(net::kMaxReceiveSize);
}

SshBridge::~SshBridge() {
  if (socket_ != nullptr) loop_->UnwatchFd(socket_->fd());
}

void SshBridge::FromStream(net::Datagram datagram) {
  if (socket_->SendTo(session_, datagram.payload).ok()) {
    ++stats_.to_session;
  } else {
    ++stats_.send_errors;  // full socket buffer or a session gone: SSP resends
  }
}

void SshBridge::FromSocket() {
  // Drain what is waiting, a bounded number per turn (the loop calls again
  // while the socket stays readable). An oversize datagram is an error the
  // socket already consumed.
  for (int i = 0; i < kMaxPerTurn; ++i) {
    absl::Status received = socket_->ReceiveInto(&received_);
    if (absl::IsUnavailable(received)) return;
    if (!received.ok()) {
      ++stats_.send_errors;
      continue;
    }
    if (received_.from != session_) {
      ++stats_.dropped_foreign;
      continue;
    }
    if (stream_->Send(received_.payload).ok()) {
      ++stats_.to_stream;
    } else {
      ++stats_.dropped_stream_full;  // or the stream ended: status() says so
    }
  }
}

}  // namespace moshx::cmd
