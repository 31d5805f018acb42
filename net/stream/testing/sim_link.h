// SimLink: two StreamMux endpoints over net/testing's SimulatedNetwork, with
// the association replaced by the smallest stand-in that behaves like it on
// the wire: every datagram is [type byte][36 bytes standing in for the
// association's header and tag][frame], type 0 carrying "terminal" frames
// (keystrokes/echo in tests) and type 1 mux frames. The server end follows
// the source address of the newest datagram (the association's roaming rule)
// and tells its mux about the path change.
//
// Testonly. Not thread-safe. The network must outlive the link.
#ifndef MOSHX_NET_STREAM_TESTING_SIM_LINK_H_
#define MOSHX_NET_STREAM_TESTING_SIM_LINK_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "net/datagram_socket.h"
#include "net/stream/frame_channel.h"
#include "net/stream/stream_mux.h"
#include "net/testing/simulated_network.h"

namespace moshx::net::stream::testing {

// Bytes the stand-in adds per datagram: moshx mode's packet overhead (36)
// plus the frame-type byte, as the association will.
inline constexpr size_t kAssociationOverhead = 37;
// The association's IPv4 datagram MTU.
inline constexpr size_t kDatagramMtu = 1252;

class SimEndpoint : public FrameChannel {
 public:
  // Binds `port` on `host`. `follow_peer`: adopt the newest source address.
  SimEndpoint(net::testing::SimulatedNetwork* net, net::testing::SimulatedNetwork::Host* host,
              uint16_t port, bool follow_peer);
  ~SimEndpoint() override;

  void set_peer(const Address& peer) { peer_ = peer; }
  void set_mux(StreamMux* mux) { mux_ = mux; }
  void set_terminal_handler(std::function<void(absl::string_view)> f) {
    on_terminal_ = std::move(f);
  }
  Address local_address() const { return socket_->local_address(); }

  // A "terminal" frame (type 0): never paced, never queued here.
  absl::Status SendTerminal(absl::string_view bytes);

  absl::Status SendFrame(absl::string_view frame) override;
  size_t max_frame_size() const override { return kDatagramMtu - kAssociationOverhead; }

 private:
  absl::Status SendTyped(char type, absl::string_view bytes);
  void OnReadable();

  net::testing::SimulatedNetwork* net_;
  std::unique_ptr<DatagramSocket> socket_;
  bool follow_peer_;
  Address peer_;
  bool has_peer_ = false;
  StreamMux* mux_ = nullptr;
  std::function<void(absl::string_view)> on_terminal_;
  std::string buffer_;
};

// A client and a server host with a mux each, linked both ways.
struct SimLink {
  SimLink(net::testing::SimulatedNetwork* net, const net::testing::LinkParams& params,
          MuxConfig client_config = {}, MuxConfig server_config = {});

  net::testing::SimulatedNetwork* net;
  net::testing::SimulatedNetwork::Host* client_host;
  net::testing::SimulatedNetwork::Host* server_host;
  std::unique_ptr<SimEndpoint> client_end;
  std::unique_ptr<SimEndpoint> server_end;
  std::unique_ptr<StreamMux> client;
  std::unique_ptr<StreamMux> server;
};

}  // namespace moshx::net::stream::testing

#endif  // MOSHX_NET_STREAM_TESTING_SIM_LINK_H_
