#include "net/stream/testing/sim_link.h"

#include <cassert>

namespace moshx::net::stream::testing {

SimEndpoint::SimEndpoint(net::testing::SimulatedNetwork* net,
                         net::testing::SimulatedNetwork::Host* host, uint16_t port,
                         bool follow_peer)
    : net_(net), follow_peer_(follow_peer) {
  auto socket = host->Bind(port);
  assert(socket.ok());
  socket_ = std::move(*socket);
  absl::Status watched =
      net_->WatchFd(socket_->fd(), EventLoop::kReadable, [this](uint32_t) { OnReadable(); });
  assert(watched.ok());
  (void)watched;  // checked by the assert; tests only
}

SimEndpoint::~SimEndpoint() { net_->UnwatchFd(socket_->fd()); }

absl::Status SimEndpoint::SendTyped(char type, absl::string_view bytes) {
  if (!follow_peer_ || has_peer_) {
    buffer_.assign(1, type);
    buffer_.append(kAssociationOverhead - 1, '\0');
    buffer_.append(bytes.data(), bytes.size());
    return socket_->SendTo(peer_, buffer_);
  }
  return absl::FailedPreconditionError("peer not yet known");
}

absl::Status SimEndpoint::SendTerminal(absl::string_view bytes) { return SendTyped(0, bytes); }

absl::Status SimEndpoint::SendFrame(absl::string_view frame) {
  if (frame.size() > max_frame_size()) return absl::InvalidArgumentError("frame too large");
  return SendTyped(1, frame);
}

void SimEndpoint::OnReadable() {
  for (auto d = socket_->ReceiveFrom(); d.ok(); d = socket_->ReceiveFrom()) {
    if (d->payload.size() < kAssociationOverhead) continue;
    if (follow_peer_ && (!has_peer_ || d->from != peer_)) {
      bool changed = has_peer_;
      peer_ = d->from;
      has_peer_ = true;
      if (changed && mux_ != nullptr) mux_->OnPathChange();
    }
    absl::string_view body = absl::string_view(d->payload).substr(kAssociationOverhead);
    if (d->payload[0] == 1 && mux_ != nullptr) {
      mux_->OnFrame(body);
    } else if (d->payload[0] == 0 && on_terminal_) {
      on_terminal_(body);
    }
  }
}

SimLink::SimLink(net::testing::SimulatedNetwork* network,
                 const net::testing::LinkParams& params, MuxConfig client_config,
                 MuxConfig server_config)
    : net(network) {
  client_host = net->AddHost("10.0.0.1");
  server_host = net->AddHost("10.0.0.2");
  net->SetLinks(client_host, server_host, params);
  client_end = std::make_unique<SimEndpoint>(net, client_host, 50000, /*follow_peer=*/false);
  server_end = std::make_unique<SimEndpoint>(net, server_host, 60001, /*follow_peer=*/true);
  client_end->set_peer(server_end->local_address());
  client_config.is_server = false;
  server_config.is_server = true;
  client = std::make_unique<StreamMux>(net, net, client_end.get(), client_config);
  server = std::make_unique<StreamMux>(net, net, server_end.get(), server_config);
  client_end->set_mux(client.get());
  server_end->set_mux(server.get());
}

}  // namespace moshx::net::stream::testing
