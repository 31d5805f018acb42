// The production implementations end to end: two Transports on one
// PollEventLoop with the SystemClock and real UDP sockets on loopback.
#include <random>

#include "gtest/gtest.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/testing/counter_state.h"
#include "net/transport.h"
#include "net/udp_socket.h"

namespace moshx::net {
namespace {

using testing::CounterState;
using CounterTransport = Transport<CounterState, CounterState>;

SessionKey Key() {
  std::array<uint8_t, 16> b{};
  b.fill(0x42);
  return SessionKey(b);
}

void RunSession(const char* ip, WireMode mode) {
  SystemClock clock;
  auto loop = PollEventLoop::Create(&clock);
  ASSERT_TRUE(loop.ok());
  auto bind_ip = Address::Parse(ip, 0);
  ASSERT_TRUE(bind_ip.ok());
  auto server_socket = UdpSocket::Bind(*bind_ip, {0, 0});
  if (!server_socket.ok()) GTEST_SKIP() << server_socket.status();
  Address server_addr = (*server_socket)->local_address();
  auto client_socket = UdpSocket::Bind(*bind_ip, {0, 0});
  ASSERT_TRUE(client_socket.ok());
  UdpSocketFactory factory;
  std::mt19937_64 crng(1), srng(2);
  auto server = CounterTransport::Create(
      {loop->get(), &clock, std::move(*server_socket), nullptr, absl::BitGenRef(srng)},
      Key(), {Role::kServer, mode, 9, std::nullopt, std::nullopt});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = CounterTransport::Create(
      {loop->get(), &clock, std::move(*client_socket), &factory, absl::BitGenRef(crng)},
      Key(), {Role::kClient, mode, 9, server_addr, std::nullopt});
  ASSERT_TRUE(client.ok()) << client.status();
  (*client)->mutable_local_state().Add(5);
  (*server)->mutable_local_state().Add(8);
  MonoTime deadline = clock.Now() + absl::Seconds(10);
  while (clock.Now() < deadline &&
         !((*server)->remote_state().value() == 5 && (*client)->remote_state().value() == 8)) {
    ASSERT_TRUE((*loop)->RunOnce(absl::Milliseconds(100)).ok());
  }
  EXPECT_EQ((*server)->remote_state().value(), 5u);
  EXPECT_EQ((*client)->remote_state().value(), 8u);
  EXPECT_EQ((*server)->connection().remote_address()->port(),
            (*client)->connection().local_address().port());
  // Shut down cleanly from the client.
  (*client)->StartShutdown();
  deadline = clock.Now() + absl::Seconds(10);
  while (clock.Now() < deadline && !(*client)->shutdown_acknowledged()) {
    ASSERT_TRUE((*loop)->RunOnce(absl::Milliseconds(100)).ok());
  }
  EXPECT_TRUE((*client)->shutdown_acknowledged());
  EXPECT_TRUE((*server)->counterparty_shutdown_ack_sent());
}

TEST(TransportLoopbackTest, MoshModeOverIpv4) { RunSession("127.0.0.1", WireMode::kMosh); }
TEST(TransportLoopbackTest, MoshxModeOverIpv6) { RunSession("::1", WireMode::kMoshx); }

}  // namespace
}  // namespace moshx::net
