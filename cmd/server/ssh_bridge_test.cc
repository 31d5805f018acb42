#include "cmd/server/ssh_bridge.h"

#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/udp_socket.h"

namespace moshx::cmd {
namespace {

net::Address Loopback() { return *net::Address::Parse("127.0.0.1", 0); }

std::unique_ptr<net::UdpSocket> LoopbackSocket() {
  auto s = net::UdpSocket::Bind(Loopback(), net::PortRange{0, 0});
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

// The bridge between a socketpair (the SSH channel; the test holds the
// client's end as a StreamPath) and a loopback UDP socket standing for the
// session, on a real poll loop.
class SshBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = *net::PollEventLoop::Create(&clock_);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    auto client = net::StreamPath::Create(loop_.get(), fds[0], fds[0], /*peer_known=*/true);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    client_->set_receive_handler([this](net::Datagram d) { client_got_.push_back(d.payload); });
    auto stream = net::StreamPath::Create(loop_.get(), fds[1], fds[1], /*peer_known=*/true);
    ASSERT_TRUE(stream.ok()) << stream.status();
    session_ = LoopbackSocket();
    auto bridge_socket = LoopbackSocket();
    bridge_address_ = bridge_socket->local_address();
    auto bridge = SshBridge::Create(loop_.get(), *std::move(stream), std::move(bridge_socket),
                                    session_->local_address());
    ASSERT_TRUE(bridge.ok()) << bridge.status();
    bridge_ = *std::move(bridge);
  }

  // Runs the loop until `done` or 5 real seconds.
  bool RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 5000 && !done(); ++i) {
      EXPECT_TRUE(loop_->RunOnce(absl::Milliseconds(1)).ok());
    }
    return done();
  }

  std::vector<net::Datagram> SessionReceives(size_t n) {
    std::vector<net::Datagram> got;
    RunUntil([&] {
      for (auto d = session_->ReceiveFrom(); d.ok(); d = session_->ReceiveFrom()) {
        got.push_back(*std::move(d));
      }
      return got.size() >= n;
    });
    return got;
  }

  net::SystemClock clock_;
  std::unique_ptr<net::PollEventLoop> loop_;
  std::unique_ptr<net::StreamPath> client_;
  std::unique_ptr<net::UdpSocket> session_;
  net::Address bridge_address_;
  std::unique_ptr<SshBridge> bridge_;
  std::vector<std::string> client_got_;
};

TEST_F(SshBridgeTest, FramesFromTheChannelReachTheSessionAsDatagramsFromOneAddress) {
  const std::vector<std::string> sent = {"sealed-1", std::string(net::kMaxStreamDatagram, 'z'),
                                         "sealed-3"};
  for (const std::string& d : sent) ASSERT_TRUE(client_->Send(d).ok());
  std::vector<net::Datagram> got = SessionReceives(sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(got[i].payload, sent[i]);
    EXPECT_EQ(got[i].from, bridge_address_);  // the session sees one roaming "client"
  }
  EXPECT_EQ(bridge_->stats().to_session, sent.size());
}

TEST_F(SshBridgeTest, SessionDatagramsGoBackAsFrames) {
  ASSERT_TRUE(session_->SendTo(bridge_address_, "reply-1").ok());
  ASSERT_TRUE(session_->SendTo(bridge_address_, "reply-2").ok());
  ASSERT_TRUE(RunUntil([&] { return client_got_.size() == 2; }));
  EXPECT_EQ(client_got_, (std::vector<std::string>{"reply-1", "reply-2"}));
  EXPECT_EQ(bridge_->stats().to_stream, 2u);
}

TEST_F(SshBridgeTest, DatagramsFromAnyoneElseAreDroppedNotFramed) {
  auto stranger = LoopbackSocket();
  ASSERT_TRUE(stranger->SendTo(bridge_address_, "injected").ok());
  ASSERT_TRUE(RunUntil([&] { return bridge_->stats().dropped_foreign == 1; }));
  ASSERT_TRUE(session_->SendTo(bridge_address_, "genuine").ok());
  ASSERT_TRUE(RunUntil([&] { return !client_got_.empty(); }));
  EXPECT_EQ(client_got_, std::vector<std::string>{"genuine"});
}

TEST_F(SshBridgeTest, ClosingTheChannelEndsTheBridge) {
  EXPECT_TRUE(bridge_->status().ok());
  client_.reset();  // the client (ssh) went away: end of stream
  EXPECT_TRUE(RunUntil([&] { return !bridge_->status().ok(); }));
}

TEST_F(SshBridgeTest, AFullChannelDropsDatagramsInsteadOfQueueingThem) {
  // The client reads nothing (its loop does not run its path's reads while
  // the test floods): the channel fills, the bridge keeps at most
  // StreamPath::kMaxPendingBytes and drops the rest.
  client_.reset();
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto stream = net::StreamPath::Create(loop_.get(), fds[1], fds[1], /*peer_known=*/true);
  ASSERT_TRUE(stream.ok());
  auto bridge_socket = LoopbackSocket();
  const net::Address address = bridge_socket->local_address();
  auto bridge = SshBridge::Create(loop_.get(), *std::move(stream), std::move(bridge_socket),
                                  session_->local_address());
  ASSERT_TRUE(bridge.ok());
  const std::string datagram(1200, 'f');
  for (int i = 0; i < 2000; ++i) {
    session_->SendTo(address, datagram).IgnoreError();  // a full buffer drops some: fine
    loop_->RunOnce(absl::ZeroDuration()).IgnoreError();
  }
  RunUntil([&] { return (*bridge)->stats().dropped_stream_full > 0; });
  EXPECT_GT((*bridge)->stats().dropped_stream_full, 0u);
  close(fds[0]);
}

}  // namespace
}  // namespace moshx::cmd
