// The router on real sockets on loopback: a UDP client, session hosts on
// socketpairs (users given explicitly) or on the listening socket (the uid
// from SO_PEERCRED), the poll loop in real time.
#include "cmd/router/router.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cmd/router/router_socket.h"
#include "gtest/gtest.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/udp_socket.h"

namespace moshx::cmd::router {
namespace {

constexpr uid_t kUserA = 1000;
constexpr uid_t kUserB = 1001;

// A moshx-looking datagram: the connection id, then `fill` (36 bytes at least:
// the shortest an authentic one can be).
std::string Datagram(uint64_t id, char fill = 'x') {
  std::string d;
  for (int shift = 56; shift >= 0; shift -= 8) d.push_back(static_cast<char>(id >> shift));
  d.append(40, fill);
  return d;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = *net::PollEventLoop::Create(&clock_);
    auto loopback = *net::Address::Parse("127.0.0.1", 0);
    auto udp = net::UdpSocket::Bind(loopback, net::PortRange{0, 0});
    ASSERT_TRUE(udp.ok()) << udp.status();
    auto client = net::UdpSocket::Bind(loopback, net::PortRange{0, 0});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    auto r = Router::Create(loop_.get(), std::move(*udp), sys::ScopedFd(),
                            [](int) -> absl::StatusOr<uid_t> { return kUserA; }, Options());
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = std::move(*r);
  }

  virtual RouterConfig Options() { return RouterConfig(); }

  // A host of `uid` on a socketpair; returns the host's end.
  sys::ScopedFd Host(uid_t uid) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    EXPECT_TRUE(router_->AddHost(sys::ScopedFd(fds[0]), uid).ok());
    absl::StatusOr<Frame> hello = ReceiveFrame(fds[1], absl::Seconds(1));
    EXPECT_TRUE(hello.ok() && hello->type == FrameType::kHello &&
                hello->address == router_->local_address());
    return sys::ScopedFd(fds[1]);
  }

  void Pump() {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(5)).ok());
  }

  // Claims `id` for `host` and returns the router's answer.
  Frame Claim(const sys::ScopedFd& host, uint64_t id) {
    EXPECT_TRUE(SendFrame(host.get(), ClaimFrame(id)).ok());
    Pump();
    absl::StatusOr<Frame> answer = ReceiveFrame(host.get(), absl::Seconds(2));
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *answer : Frame();
  }

  void ClientSends(const std::string& datagram) {
    ASSERT_TRUE(client_->SendTo(router_->local_address(), datagram).ok());
    Pump();
  }

  // The next frame a host got, or an error when none came.
  absl::StatusOr<Frame> HostGot(const sys::ScopedFd& host) {
    return ReceiveFrame(host.get(), absl::Milliseconds(50));
  }

  net::SystemClock clock_;
  std::unique_ptr<net::PollEventLoop> loop_;
  std::unique_ptr<net::UdpSocket> client_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, ForwardsByConnectionIdAndRepliesFromTheSamePort) {
  sys::ScopedFd a = Host(kUserA), b = Host(kUserB);
  EXPECT_EQ(Claim(a, 0xA1).type, FrameType::kClaimed);
  EXPECT_EQ(Claim(b, 0xB1).type, FrameType::kClaimed);

  ClientSends(Datagram(0xA1, 'a'));
  absl::StatusOr<Frame> got = HostGot(a);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->type, FrameType::kDatagram);
  EXPECT_EQ(got->datagram, Datagram(0xA1, 'a'));  // forwarded as it came: ciphertext
  EXPECT_EQ(got->address, client_->local_address());
  EXPECT_FALSE(HostGot(b).ok());

  ClientSends(Datagram(0xB1, 'b'));
  got = HostGot(b);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->datagram, Datagram(0xB1, 'b'));
  EXPECT_FALSE(HostGot(a).ok());

  // A's reply leaves from the router's one port.
  ASSERT_TRUE(SendFrame(a.get(), DatagramFrame(client_->local_address(), Datagram(0xA1, 'r'))).ok());
  Pump();
  absl::StatusOr<net::Datagram> reply = client_->ReceiveFrom();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload, Datagram(0xA1, 'r'));
  EXPECT_EQ(reply->from.port(), router_->local_address().port());
  EXPECT_EQ(router_->stats().forwarded_in, 2u);
  EXPECT_EQ(router_->stats().datagrams_out, 1u);
}

TEST_F(RouterTest, UnknownIdsAndShortDatagramsAreCountedDrops) {
  sys::ScopedFd a = Host(kUserA);
  EXPECT_EQ(Claim(a, 0xA1).type, FrameType::kClaimed);
  ClientSends(Datagram(0xDEAD));
  ClientSends(Datagram(0xA1).substr(0, 20));
  EXPECT_FALSE(HostGot(a).ok());
  EXPECT_EQ(router_->stats().dropped_unknown_id, 1u);
  EXPECT_EQ(router_->stats().dropped_short, 1u);
  EXPECT_EQ(router_->stats().forwarded_in, 0u);
}

TEST_F(RouterTest, AUserCannotClaimOrUseAnotherUsersId) {
  sys::ScopedFd a = Host(kUserA), b = Host(kUserB);
  EXPECT_EQ(Claim(a, 0xA1).type, FrameType::kClaimed);
  Frame answer = Claim(b, 0xA1);
  EXPECT_EQ(answer.type, FrameType::kRefused);
  EXPECT_EQ(answer.reason, RefuseReason::kOtherUser);
  // A's traffic still goes to A, and B cannot send under A's id.
  ClientSends(Datagram(0xA1));
  EXPECT_TRUE(HostGot(a).ok());
  EXPECT_FALSE(HostGot(b).ok());
  ASSERT_TRUE(SendFrame(b.get(), DatagramFrame(client_->local_address(), Datagram(0xA1))).ok());
  Pump();
  EXPECT_FALSE(client_->ReceiveFrom().ok());
  EXPECT_EQ(router_->stats().dropped_out_refused, 1u);
  EXPECT_EQ(router_->stats().claims_refused, 1u);
}

TEST_F(RouterTest, RepliesGoOnlyToAddressesThatSentForTheId) {
  sys::ScopedFd a = Host(kUserA);
  EXPECT_EQ(Claim(a, 0xA1).type, FrameType::kClaimed);
  auto elsewhere = *net::Address::Parse("127.0.0.1", 9);  // never sent anything
  ASSERT_TRUE(SendFrame(a.get(), DatagramFrame(elsewhere, Datagram(0xA1))).ok());
  ASSERT_TRUE(SendFrame(a.get(), DatagramFrame(client_->local_address(), Datagram(0xA1))).ok());
  Pump();
  EXPECT_EQ(router_->stats().dropped_out_refused, 2u);
  EXPECT_EQ(router_->stats().datagrams_out, 0u);
}

TEST_F(RouterTest, AHostThatGoesAwayTakesItsIdsAlongAndCanComeBack) {
  sys::ScopedFd a = Host(kUserA);
  EXPECT_EQ(Claim(a, 0xA1).type, FrameType::kClaimed);
  a.reset();  // the host exits
  Pump();
  EXPECT_EQ(router_->table().id_count(), 0u);
  ClientSends(Datagram(0xA1));
  EXPECT_EQ(router_->stats().dropped_unknown_id, 1u);
  // Its successor registers again and the session's datagrams flow.
  sys::ScopedFd again = Host(kUserA);
  EXPECT_EQ(Claim(again, 0xA1).type, FrameType::kClaimed);
  ClientSends(Datagram(0xA1));
  EXPECT_TRUE(HostGot(again).ok());
}

TEST_F(RouterTest, ForgetAndBadFrames) {
  sys::ScopedFd a = Host(kUserA);
  EXPECT_EQ(Claim(a, 0xA1).type, FrameType::kClaimed);
  ASSERT_TRUE(SendFrame(a.get(), ForgetFrame(0xA1)).ok());
  ASSERT_EQ(send(a.get(), "Zjunk", 5, 0), 5);
  ASSERT_TRUE(SendFrame(a.get(), ClaimedFrame(0xA2)).ok());  // the router's word, not a host's
  Pump();
  EXPECT_EQ(router_->table().id_count(), 0u);
  EXPECT_EQ(router_->stats().bad_frames, 2u);
}

class SmallRouterTest : public RouterTest {
  RouterConfig Options() override {
    RouterConfig o;
    o.limits.max_ids_per_user = 2;
    o.max_hosts = 2;
    return o;
  }
};

TEST_F(SmallRouterTest, LimitsAreAnsweredNotGrown) {
  sys::ScopedFd a = Host(kUserA);
  EXPECT_EQ(Claim(a, 1).type, FrameType::kClaimed);
  EXPECT_EQ(Claim(a, 2).type, FrameType::kClaimed);
  Frame answer = Claim(a, 3);
  EXPECT_EQ(answer.type, FrameType::kRefused);
  EXPECT_EQ(answer.reason, RefuseReason::kUserFull);
  sys::ScopedFd b = Host(kUserB);
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  sys::ScopedFd keep(fds[1]);
  EXPECT_TRUE(absl::IsResourceExhausted(router_->AddHost(sys::ScopedFd(fds[0]), kUserB)));
  EXPECT_EQ(router_->stats().hosts_refused, 1u);
}

// docs/router.md §5: a thousand sessions, each behind a host of its own (the
// worst case: a connection each), cost the router far less than 10 MB.
TEST_F(RouterTest, AThousandSessionsCostLessThanTenMegabytes) {
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_cur < 2200) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 2200);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);
  }
  ASSERT_GE(files.rlim_cur, 2200u) << "the test needs 2000 descriptors";
  const size_t before = mallinfo2().uordblks;
  std::vector<sys::ScopedFd> hosts;
  for (uid_t i = 0; i < 1000; ++i) {
    hosts.push_back(Host(2000 + i));
    ASSERT_TRUE(SendFrame(hosts.back().get(), ClaimFrame(0x5000 + i)).ok());
  }
  Pump();
  const size_t after = mallinfo2().uordblks;
  EXPECT_EQ(router_->table().id_count(), 1000u);
  EXPECT_EQ(router_->table().host_count(), 1000u);
  std::printf("router heap for 1000 hosts with one session each: %zu bytes\n", after - before);
  EXPECT_LT(after - before, size_t{10} << 20);
}

TEST(RouterSocketTest, HostsConnectThroughTheListenerAsTheirOwnUser) {
  net::SystemClock clock;
  auto loop = *net::PollEventLoop::Create(&clock);
  // A short directory: a socket path has at most 107 bytes.
  char dir[] = "/tmp/moshx-router-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/run/router.sock";
  auto listener = ListenRouterSocket(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto udp = net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0), net::PortRange{0, 0});
  ASSERT_TRUE(udp.ok());
  auto router =
      Router::Create(loop.get(), std::move(*udp), std::move(*listener), RouterPeerUid);
  ASSERT_TRUE(router.ok()) << router.status();
  auto host = ConnectRouterSocket(path);
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_TRUE(SendFrame(host->get(), ClaimFrame(7)).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop->RunOnce(absl::Milliseconds(5)).ok());
  absl::StatusOr<Frame> hello = ReceiveFrame(host->get(), absl::Seconds(2));
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->type, FrameType::kHello);
  EXPECT_EQ(hello->address, (*router)->local_address());
  absl::StatusOr<Frame> answer = ReceiveFrame(host->get(), absl::Seconds(2));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->type, FrameType::kClaimed);
  EXPECT_EQ((*router)->table().ids_of_user(getuid()), 1u);
  // Listening again replaces the stale socket; a plain file is not replaced.
  EXPECT_TRUE(ListenRouterSocket(path).ok());
  const std::string file = std::string(dir) + "/plain";
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  EXPECT_TRUE(absl::IsAlreadyExists(ListenRouterSocket(file).status()));
  EXPECT_TRUE(absl::IsNotFound(ConnectRouterSocket(std::string(dir) + "/none.sock").status()));
  host->reset();
  unlink(path.c_str());
  unlink(file.c_str());
  rmdir((std::string(dir) + "/run").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace moshx::cmd::router
