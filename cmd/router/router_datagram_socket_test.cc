// Whole moshx-mode transports of two users, their servers behind one router
// port on loopback (RouterDatagramSocket), their clients on UDP: both
// converge, neither user can claim the other's id, and a router restart in
// the middle of the sessions is recovered from (docs/router.md §2, §6).
#include "cmd/router/router_datagram_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <atomic>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "cmd/router/router.h"
#include "cmd/router/router_socket.h"
#include "gtest/gtest.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/testing/counter_state.h"
#include "net/transport.h"
#include "net/udp_socket.h"

namespace moshx::cmd::router {
namespace {

using net::testing::CounterState;
using CounterTransport = net::Transport<CounterState, CounterState>;

constexpr uid_t kUserA = 1000;
constexpr uid_t kUserB = 1001;

net::SessionKey Key(uint8_t fill) {
  std::array<uint8_t, 16> b{};
  b.fill(fill);
  return net::SessionKey(b);
}

// The router as its own process would run it: its own loop on its own
// thread, hosts connecting through its socket. The n-th host to connect is
// user kUserA + n % 2 (A, B, A, ...), standing in for SO_PEERCRED.
class RouterThread {
 public:
  RouterThread(const std::string& path, uint16_t port) {
    auto udp = net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0),
                                    net::PortRange{port, port});
    EXPECT_TRUE(udp.ok()) << udp.status();
    auto listener = ListenRouterSocket(path);
    EXPECT_TRUE(listener.ok()) << listener.status();
    loop_ = *net::PollEventLoop::Create(&clock_);
    auto r = Router::Create(loop_.get(), std::move(*udp), std::move(*listener),
                            [this](int) -> absl::StatusOr<uid_t> {
                              return kUserA + (accepted_++ % 2);
                            });
    EXPECT_TRUE(r.ok()) << r.status();
    router_ = std::move(*r);
    address_ = router_->local_address();
    thread_ = std::thread([this] {
      while (!stop_) {
        if (!loop_->RunOnce(absl::Milliseconds(10)).ok()) return;
      }
    });
  }
  ~RouterThread() {
    stop_ = true;
    thread_.join();
  }
  net::Address address() const { return address_; }

 private:
  net::SystemClock clock_;
  std::unique_ptr<net::PollEventLoop> loop_;
  std::unique_ptr<Router> router_;
  net::Address address_;
  uid_t accepted_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class RouterSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(mkdtemp(dir_), nullptr);
    path_ = std::string(dir_) + "/router.sock";
    loop_ = *net::PollEventLoop::Create(&clock_);
    router_ = std::make_unique<RouterThread>(path_, 0);
  }
  void TearDown() override {
    router_.reset();
    unlink(path_.c_str());
    rmdir(dir_);
  }

  std::unique_ptr<RouterDatagramSocket> HostSocket() {
    auto s = RouterDatagramSocket::Connect(path_, absl::Seconds(2));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::unique_ptr<CounterTransport> Server(std::unique_ptr<net::DatagramSocket> socket,
                                           uint64_t id, uint8_t key) {
    auto t = CounterTransport::Create({loop_.get(), &clock_, std::move(socket), nullptr,
                                       absl::BitGenRef(rng_)},
                                      Key(key), {net::Role::kServer, net::WireMode::kMoshx, id});
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  }

  std::unique_ptr<CounterTransport> Client(uint64_t id, uint8_t key) {
    auto udp = net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0), net::PortRange{0, 0});
    EXPECT_TRUE(udp.ok());
    auto t = CounterTransport::Create(
        {loop_.get(), &clock_, std::move(*udp), nullptr, absl::BitGenRef(rng_)}, Key(key),
        {net::Role::kClient, net::WireMode::kMoshx, id, router_->address()});
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    net::MonoTime deadline = clock_.Now() + limit;
    while (!done() && clock_.Now() < deadline) {
      EXPECT_TRUE(loop_->RunOnce(absl::Milliseconds(20)).ok());
    }
    return done();
  }

  char dir_[32] = "/tmp/moshx-router-test-XXXXXX";
  std::string path_;
  net::SystemClock clock_;
  std::unique_ptr<net::PollEventLoop> loop_;
  std::unique_ptr<RouterThread> router_;
  std::mt19937_64 rng_{7};
};

TEST_F(RouterSessionTest, TwoUsersSessionsShareOnePort) {
  auto a_socket = HostSocket();  // user A
  auto b_socket = HostSocket();  // user B
  ASSERT_TRUE(a_socket && b_socket);
  ASSERT_TRUE(a_socket->Claim(0xA1, absl::Seconds(2)).ok());
  ASSERT_TRUE(b_socket->Claim(0xB1, absl::Seconds(2)).ok());
  absl::Status stolen = b_socket->Claim(0xA1, absl::Seconds(2));
  EXPECT_TRUE(absl::IsPermissionDenied(stolen)) << stolen;
  EXPECT_EQ(a_socket->local_address(), router_->address());

  auto server_a = Server(std::move(a_socket), 0xA1, 0x11);
  auto server_b = Server(std::move(b_socket), 0xB1, 0x22);
  auto client_a = Client(0xA1, 0x11);
  auto client_b = Client(0xB1, 0x22);
  client_a->mutable_local_state().Add(5);
  client_b->mutable_local_state().Add(6);
  server_a->mutable_local_state().Add(50);
  server_b->mutable_local_state().Add(60);
  EXPECT_TRUE(RunUntil(
      [&] {
        return server_a->remote_state().value() == 5 && server_b->remote_state().value() == 6 &&
               client_a->remote_state().value() == 50 && client_b->remote_state().value() == 60;
      },
      absl::Seconds(10)));
  // Each server's peer is its own client, seen through the one port.
  EXPECT_EQ(server_a->connection().remote_address()->port(),
            client_a->connection().local_address().port());
  EXPECT_EQ(server_b->connection().remote_address()->port(),
            client_b->connection().local_address().port());
}

TEST_F(RouterSessionTest, ASessionOutlivesARouterRestart) {
  auto socket = HostSocket();
  ASSERT_TRUE(socket);
  RouterDatagramSocket* raw = socket.get();
  ASSERT_TRUE(raw->Claim(0xA1, absl::Seconds(2)).ok());
  auto server = Server(std::move(socket), 0xA1, 0x11);
  auto client = Client(0xA1, 0x11);
  client->mutable_local_state().Add(1);
  server->mutable_local_state().Add(1);
  ASSERT_TRUE(RunUntil(
      [&] { return server->remote_state().value() == 1 && client->remote_state().value() == 1; },
      absl::Seconds(10)));

  // The router stops and starts again on the same port and socket path.
  const uint16_t port = router_->address().port();
  router_.reset();
  RunUntil([] { return false; }, absl::Milliseconds(200));  // the server notices
  router_ = std::make_unique<RouterThread>(path_, port);
  client->mutable_local_state().Add(1);
  server->mutable_local_state().Add(6);
  EXPECT_TRUE(RunUntil(
      [&] { return server->remote_state().value() == 2 && client->remote_state().value() == 7; },
      absl::Seconds(20)))
      << "server sees " << server->remote_state().value() << ", client sees "
      << client->remote_state().value() << "; reconnects " << raw->reconnects();
  EXPECT_GE(raw->reconnects(), 1u);
}

TEST_F(RouterSessionTest, AQuietHostReconnectsWhenAskedAndClaimsItsIdsAgain) {
  auto socket = HostSocket();
  ASSERT_TRUE(socket);
  ASSERT_TRUE(socket->Claim(0xB1, absl::Seconds(2)).ok());
  const uint16_t port = router_->address().port();
  router_.reset();
  // The host reads the end of the connection; no session sends anything.
  for (int i = 0; i < 100 && socket->connected(); ++i) {
    EXPECT_FALSE(socket->ReceiveFrom().ok());
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE(socket->connected());
  EXPECT_TRUE(absl::IsUnavailable(socket->EnsureConnected()));  // no router yet
  EXPECT_TRUE(absl::IsUnavailable(socket->Claim(0xB2, absl::Seconds(1))));
  router_ = std::make_unique<RouterThread>(path_, port);
  ASSERT_TRUE(socket->EnsureConnected().ok());
  EXPECT_TRUE(socket->connected());
  EXPECT_EQ(socket->reconnects(), 1u);
  EXPECT_TRUE(socket->EnsureConnected().ok());  // connected: nothing to do
  EXPECT_EQ(socket->reconnects(), 1u);
  // The id claimed before the restart routes to this host again.
  auto udp = net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0), net::PortRange{0, 0});
  ASSERT_TRUE(udp.ok());
  std::string datagram = std::string(7, '\0') + "\xB1" + std::string(40, 'x');
  ASSERT_TRUE((*udp)->SendTo(router_->address(), datagram).ok());
  absl::StatusOr<net::Datagram> got = absl::UnavailableError("");
  for (int i = 0; i < 200 && !got.ok(); ++i) {
    got = socket->ReceiveFrom();
    if (!got.ok()) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->payload, datagram);
  // New claims work on the new connection.
  EXPECT_TRUE(socket->Claim(0xB2, absl::Seconds(2)).ok());
}

}  // namespace
}  // namespace moshx::cmd::router
