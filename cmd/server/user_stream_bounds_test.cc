// What a client can make the server's transport keep of the user stream
// (docs/security.md §5): acknowledged keystrokes are subtracted from every
// held state, so after a large paste the server holds only what is not yet
// acknowledged; and a client that never lets the server's states go (here:
// it never hears an ack) cannot push the held states past
// Transport::kMaxReceivedBytes — new states are refused and counted.
#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "core/protocol/terminal_state.h"
#include "core/protocol/user_stream.h"
#include "gtest/gtest.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"

namespace moshx::cmd {
namespace {

using ClientTransport = net::Transport<protocol::UserStream, protocol::TerminalState>;
using ServerTransport = net::Transport<protocol::TerminalState, protocol::UserStream>;
using net::testing::LinkParams;
using net::testing::SimulatedNetwork;

constexpr uint16_t kPort = 60001;
// ClientSession's flow control (cmd/client/client_session.h).
constexpr size_t kClientWindow = 256 * 1024;

net::SessionKey Key() {
  std::array<uint8_t, 16> bytes;
  bytes.fill(3);
  return net::SessionKey(bytes);
}

class UserStreamBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_host_ = net_.AddHost("10.0.0.1");
    server_host_ = net_.AddHost("10.0.0.2");
    LinkParams link;
    link.delay = absl::Milliseconds(5);
    net_.SetLinks(client_host_, server_host_, link);
    net::TransportConfig sc;
    sc.role = net::Role::kServer;
    sc.mode = net::WireMode::kMoshx;
    sc.connection_id = 7;
    server_ = *ServerTransport::Create(
        {&net_, &net_, *server_host_->Bind(kPort), nullptr, absl::BitGenRef(server_rng_)}, Key(),
        sc, protocol::TerminalState(80, 24), protocol::UserStream());
    net::TransportConfig cc = sc;
    cc.role = net::Role::kClient;
    cc.server_address = server_host_->ip().WithPort(kPort);
    client_ = *ClientTransport::Create({&net_, &net_, *client_host_->Open(net::AddressFamily::kIPv4),
                                        nullptr, absl::BitGenRef(client_rng_)},
                                       Key(), cc, protocol::UserStream(),
                                       protocol::TerminalState(80, 24));
    server_->set_on_remote_state([this] {
      max_server_bytes_ = std::max(max_server_bytes_, server_->received_bytes_held());
      received_events_ = server_->remote_state().end_index();
    });
  }

  // Types `total` bytes in 16 KiB reads, at most one per `gap`; with
  // `window`, only while fewer than that many keystrokes are unacknowledged
  // (as ClientSession does).
  void Type(size_t total, size_t window, absl::Duration limit,
            absl::Duration gap = absl::Milliseconds(1)) {
    const std::string chunk(16 * 1024, 'x');
    size_t typed = 0;
    const net::MonoTime give_up = net_.Now() + limit;
    while (typed < total && net_.Now() < give_up) {
      if (client_->local_state().held_events() < window) {
        client_->mutable_local_state().PushBytes(chunk);
        typed += chunk.size();
      }
      net_.RunFor(gap);
    }
    typed_ = typed;
  }

  SimulatedNetwork net_{/*seed=*/11};
  std::mt19937_64 client_rng_{1}, server_rng_{2};
  SimulatedNetwork::Host* client_host_;
  SimulatedNetwork::Host* server_host_;
  std::unique_ptr<ServerTransport> server_;
  std::unique_ptr<ClientTransport> client_;
  size_t max_server_bytes_ = 0;
  uint64_t received_events_ = 0;
  size_t typed_ = 0;
};

TEST_F(UserStreamBoundsTest, AfterEightMiBTypedTheServerHoldsOnlyWhatIsUnacknowledged) {
  Type(size_t{8} << 20, kClientWindow, absl::Seconds(120));
  ASSERT_EQ(typed_, size_t{8} << 20);
  ASSERT_TRUE(net_.RunUntil([&] { return received_events_ == typed_; }, absl::Seconds(30)));
  net_.RunFor(absl::Seconds(5));  // acks and the next heartbeat
  // Every keystroke arrived, none was refused, and what is held now is a
  // few states' worth of nothing: the acknowledged prefix is gone.
  EXPECT_EQ(server_->stats().over_budget, 0u);
  EXPECT_LT(server_->received_bytes_held(), size_t{64} << 10);
  // While typing, at most a few windows were held at once.
  EXPECT_LT(max_server_bytes_, 8 * kClientWindow * sizeof(protocol::UserEvent));
  EXPECT_LE(max_server_bytes_, ServerTransport::kMaxReceivedBytes);
}

TEST_F(UserStreamBoundsTest, AClientThatNeverHearsAnAckCannotGrowTheHeldStatesPastTheBudget) {
  // The server's datagrams never reach the client: it keeps referring to
  // state 0 and never lets a state go, so each new state holds everything
  // typed so far (mosh's flaw: 1024 such copies).
  LinkParams deaf;
  deaf.delay = absl::Milliseconds(5);
  deaf.loss = 1.0;
  net_.SetLink(server_host_, client_host_, deaf);
  Type(size_t{2} << 20, /*window=*/SIZE_MAX, absl::Seconds(60), absl::Milliseconds(25));
  net_.RunFor(absl::Seconds(5));
  EXPECT_GT(server_->received_states_held(), 2u);
  EXPECT_GT(server_->stats().over_budget, 0u);
  // The budget, plus the one state always let in.
  const size_t largest_state = typed_ * sizeof(protocol::UserEvent);
  EXPECT_LE(server_->received_bytes_held(), ServerTransport::kMaxReceivedBytes + largest_state);
  EXPECT_LE(max_server_bytes_, ServerTransport::kMaxReceivedBytes + largest_state);
}

}  // namespace
}  // namespace moshx::cmd
