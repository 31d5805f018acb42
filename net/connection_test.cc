#include "net/connection.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/session_key.h"
#include "net/testing/simulated_network.h"
#include "net/udp_path.h"

namespace moshx::net {
namespace {

using testing::LinkParams;
using testing::SimulatedNetwork;

// A Connection on a UdpPath: the UDP behaviour these tests pin down.
absl::StatusOr<std::unique_ptr<Connection>> MakeUdpConnection(
    SimulatedNetwork* net, absl::StatusOr<std::unique_ptr<DatagramSocket>> socket,
    DatagramSocketFactory* factory, PacketCodec codec, Role role,
    std::optional<Address> server_address) {
  if (!socket.ok()) return socket.status();
  auto path = UdpPath::Create(net, net, std::move(*socket), factory, server_address);
  if (!path.ok()) return path.status();
  return Connection::Create(net, std::move(*path), std::move(codec), role);
}

SessionKey TestKey(uint8_t fill = 7) {
  std::array<uint8_t, 16> bytes;
  bytes.fill(fill);
  return SessionKey(bytes);
}

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_host_ = net_.AddHost("10.0.0.1");
    server_host_ = net_.AddHost("10.0.0.2");
    LinkParams p;
    p.delay = absl::Milliseconds(50);
    net_.SetLinks(client_host_, server_host_, p);
    net_.set_tap([this](MonoTime, const Address& from, const Address&, absl::string_view d) {
      sent_.push_back({from, std::string(d)});
    });
    server_ = MakeServer(PacketCodec::Mosh(TestKey()));
    client_ = MakeClient(PacketCodec::Mosh(TestKey()));
  }

  std::unique_ptr<Connection> MakeServer(PacketCodec codec) {
    auto c = MakeUdpConnection(&net_, server_host_->Bind(60001), nullptr,
                                std::move(codec), Role::kServer, std::nullopt);
    EXPECT_TRUE(c.ok()) << c.status();
    (*c)->set_receive_handler([this](std::string p) { server_got_.push_back(p); });
    return std::move(*c);
  }

  std::unique_ptr<Connection> MakeClient(PacketCodec codec) {
    Address server_addr = server_host_->ip().WithPort(60001);
    auto c = MakeUdpConnection(&net_, client_host_->Open(AddressFamily::kIPv4),
                                client_host_, std::move(codec), Role::kClient, server_addr);
    EXPECT_TRUE(c.ok()) << c.status();
    (*c)->set_receive_handler([this](std::string p) { client_got_.push_back(p); });
    return std::move(*c);
  }

  SimulatedNetwork net_{/*seed=*/3};
  SimulatedNetwork::Host* client_host_;
  SimulatedNetwork::Host* server_host_;
  std::unique_ptr<Connection> server_, client_;
  std::vector<std::string> server_got_, client_got_;
  std::vector<std::pair<Address, std::string>> sent_;  // every datagram sent
};

TEST_F(ConnectionTest, ServerLearnsClientAddressAndReplies) {
  EXPECT_EQ(server_->Send("early").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(client_->Send("hello").ok());
  net_.RunFor(absl::Milliseconds(60));
  ASSERT_EQ(server_got_, std::vector<std::string>{"hello"});
  ASSERT_TRUE(server_->has_remote_address());
  EXPECT_EQ(*server_->remote_address(), client_->local_address());
  ASSERT_TRUE(server_->Send("world").ok());
  net_.RunFor(absl::Milliseconds(60));
  EXPECT_EQ(client_got_, std::vector<std::string>{"world"});
  EXPECT_EQ(server_->stats().roams, 1u);
}

TEST_F(ConnectionTest, MtuFollowsAddressFamily) {
  EXPECT_EQ(client_->mtu(), kMtuIpv4);
  EXPECT_EQ(client_->max_fragment_contents(), 1214u);  // docs/protocol.md §5.2
}

TEST_F(ConnectionTest, NoncesNeverRepeat) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client_->Send("x").ok());
  net_.RunFor(absl::Milliseconds(60));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(server_->Send("y").ok());
  std::set<std::string> nonces;
  for (const auto& [from, d] : sent_) nonces.insert(d.substr(0, 8));
  EXPECT_EQ(nonces.size(), 100u);
}

TEST_F(ConnectionTest, TimestampEchoMeasuresRoundTrip) {
  ASSERT_TRUE(client_->Send("ping").ok());
  net_.RunFor(absl::Milliseconds(70));  // held 20 ms at the server
  ASSERT_TRUE(server_->Send("pong").ok());
  net_.RunFor(absl::Milliseconds(60));
  ASSERT_TRUE(client_->rtt().has_sample());
  EXPECT_NEAR(client_->rtt().srtt_ms(), 100, 1);  // hold time excluded
}

TEST_F(ConnectionTest, ForgedDatagramFromElsewhereIsDroppedAndDoesNotMoveServer) {
  ASSERT_TRUE(client_->Send("hello").ok());
  net_.RunFor(absl::Milliseconds(60));
  Address client_addr = *server_->remote_address();
  std::string forged = sent_[0].second;
  forged[12] ^= 0x40;  // flip a ciphertext bit
  net_.Inject(*Address::Parse("192.0.2.9", 5555), server_host_->ip().WithPort(60001), forged);
  auto evil = PacketCodec::Mosh(TestKey(99)).Seal({Direction::kToServer, 1000, 1, kNoTimestamp, "x"});
  net_.Inject(*Address::Parse("192.0.2.9", 5555), server_host_->ip().WithPort(60001), evil);
  net_.RunFor(absl::Milliseconds(10));
  EXPECT_EQ(server_->stats().dropped_auth, 2u);
  EXPECT_EQ(*server_->remote_address(), client_addr);
  EXPECT_EQ(server_got_.size(), 1u);
}

TEST_F(ConnectionTest, ReplayedOldDatagramFromElsewhereIsDeliveredButDoesNotMoveServer) {
  ASSERT_TRUE(client_->Send("one").ok());
  ASSERT_TRUE(client_->Send("two").ok());
  net_.RunFor(absl::Milliseconds(60));
  Address client_addr = *server_->remote_address();
  net_.Inject(*Address::Parse("192.0.2.9", 5555), server_host_->ip().WithPort(60001),
              sent_[0].second);
  net_.RunFor(absl::Milliseconds(10));
  EXPECT_EQ(*server_->remote_address(), client_addr);
  EXPECT_EQ(server_->stats().out_of_order, 1u);
  EXPECT_EQ(server_got_.back(), "one");  // idempotent transport above decides
}

TEST_F(ConnectionTest, FreshDatagramFromNewAddressMovesServer) {
  ASSERT_TRUE(client_->Send("before").ok());
  net_.RunFor(absl::Milliseconds(60));
  net_.Rebind(client_host_, "10.0.0.77");
  ASSERT_TRUE(client_->Send("after").ok());
  net_.RunFor(absl::Milliseconds(60));
  EXPECT_EQ(server_->remote_address()->ToString(),
            client_->local_address().ToString());
  EXPECT_EQ(server_->remote_address()->IpString(), "10.0.0.77");
  ASSERT_TRUE(server_->Send("reply").ok());
  net_.RunFor(absl::Milliseconds(60));
  EXPECT_EQ(client_got_, std::vector<std::string>{"reply"});
}

TEST_F(ConnectionTest, ReflectedOwnDatagramIsDropped) {
  ASSERT_TRUE(client_->Send("hello").ok());
  net_.RunFor(absl::Milliseconds(60));
  // The server's own direction sent back to it.
  auto reflected = PacketCodec::Mosh(TestKey()).Seal({Direction::kToClient, 500, 1, kNoTimestamp, "x"});
  net_.Inject(client_->local_address(), server_host_->ip().WithPort(60001), reflected);
  net_.RunFor(absl::Milliseconds(10));
  EXPECT_EQ(server_->stats().dropped_direction, 1u);
  EXPECT_EQ(server_got_.size(), 1u);
}

TEST_F(ConnectionTest, EmsgsizeDropsMtuTo500) {
  LinkParams p;
  p.mtu = 700;
  p.mtu_behavior = testing::MtuBehavior::kEmsgsize;
  net_.SetLink(client_host_, server_host_, p);
  absl::Status s = client_->Send(std::string(1000, 'x'));
  EXPECT_TRUE(IsDatagramTooLarge(s)) << s;
  EXPECT_EQ(client_->mtu(), kMtuFallback);
  EXPECT_EQ(client_->max_fragment_contents(), 462u);
  EXPECT_EQ(client_->stats().mtu_reductions, 1u);
}

TEST_F(ConnectionTest, ClientHopsPortAfterTenSecondsWithoutRoundTrip) {
  ASSERT_TRUE(client_->Send("a").ok());
  net_.RunFor(absl::Seconds(5));
  Address first = client_->local_address();
  ASSERT_TRUE(client_->Send("b").ok());
  EXPECT_EQ(client_->stats().port_hops, 0u);
  net_.RunFor(absl::Seconds(6));  // 11 s since construction and last success
  ASSERT_TRUE(client_->Send("c").ok());
  EXPECT_EQ(client_->stats().port_hops, 1u);
  EXPECT_NE(client_->local_address(), first);
  ASSERT_TRUE(client_->Send("d").ok());
  net_.RunFor(absl::Milliseconds(60));
  EXPECT_EQ(*server_->remote_address(), client_->local_address());
  // The old socket still receives late replies.
  ASSERT_TRUE(server_->Send("to new").ok());
  net_.RunFor(absl::Milliseconds(60));
  EXPECT_EQ(client_got_.back(), "to new");
}

TEST_F(ConnectionTest, NoHopWhileRoundTripsSucceed) {
  for (int i = 0; i < 30; ++i) {
    client_->set_last_roundtrip_success(net_.Now());
    ASSERT_TRUE(client_->Send("a").ok());
    net_.RunFor(absl::Seconds(1));
  }
  EXPECT_EQ(client_->stats().port_hops, 0u);
}

TEST_F(ConnectionTest, ServerDetachesAfterFortySecondsOfSilence) {
  ASSERT_TRUE(client_->Send("a").ok());
  net_.RunFor(absl::Seconds(39));
  ASSERT_TRUE(server_->Send("b").ok());
  EXPECT_TRUE(server_->has_remote_address());
  net_.RunFor(absl::Seconds(2));
  server_->Send("c").IgnoreError();
  EXPECT_FALSE(server_->has_remote_address());
  EXPECT_EQ(server_->stats().detaches, 1u);
  ASSERT_TRUE(client_->Send("back").ok());
  net_.RunFor(absl::Milliseconds(60));
  EXPECT_TRUE(server_->has_remote_address());
}

TEST(ConnectionFamilyTest, Ipv6PeersUseTheIpv6Mtu) {
  SimulatedNetwork net(6);
  auto* ch = net.AddHost("2001:db8::1");
  auto* sh = net.AddHost("2001:db8::2");
  auto server = *MakeUdpConnection(&net, sh->Bind(60001), nullptr,
                                    PacketCodec::Mosh(TestKey()), Role::kServer, std::nullopt);
  auto client = *MakeUdpConnection(&net, ch->Open(AddressFamily::kIPv6), ch,
                                    PacketCodec::Mosh(TestKey()), Role::kClient,
                                    sh->ip().WithPort(60001));
  EXPECT_EQ(server->mtu(), kMtuIpv6);
  EXPECT_EQ(client->max_fragment_contents(), 1178u);  // docs/protocol.md §5.2
  std::string got;
  server->set_receive_handler([&](std::string p) { got = p; });
  ASSERT_TRUE(client->Send(std::string(1178 + 10, 'x')).ok());  // exactly 1216 bytes
  net.RunFor(absl::Milliseconds(20));
  EXPECT_EQ(got.size(), 1188u);
  EXPECT_EQ(server->remote_address()->ToString(), client->local_address().ToString());
}

TEST(ConnectionModeTest, MoshxModeAcceptsOnlyItsConnectionId) {
  SimulatedNetwork net(5);
  auto* ch = net.AddHost("10.0.0.1");
  auto* sh = net.AddHost("10.0.0.2");
  Address server_addr = sh->ip().WithPort(60001);
  auto server = *MakeUdpConnection(&net, sh->Bind(60001), nullptr,
                                    PacketCodec::Moshx(TestKey(), 0x1234), Role::kServer,
                                    std::nullopt);
  std::vector<std::string> got;
  server->set_receive_handler([&](std::string p) { got.push_back(p); });
  auto make_client = [&](PacketCodec codec) {
    return *MakeUdpConnection(&net, ch->Open(AddressFamily::kIPv4), nullptr,
                               std::move(codec), Role::kClient, server_addr);
  };
  auto good = make_client(PacketCodec::Moshx(TestKey(), 0x1234));
  auto other_id = make_client(PacketCodec::Moshx(TestKey(), 0x9999));
  auto mosh = make_client(PacketCodec::Mosh(TestKey()));
  EXPECT_EQ(good->max_fragment_contents(), kMtuIpv4 - 36 - 1 - 10);
  ASSERT_TRUE(other_id->Send("wrong id").ok());
  ASSERT_TRUE(mosh->Send("wrong mode").ok());
  ASSERT_TRUE(good->Send("right").ok());
  net.RunFor(absl::Milliseconds(20));
  EXPECT_EQ(got, std::vector<std::string>{"right"});
  EXPECT_EQ(server->stats().dropped_malformed + server->stats().dropped_auth, 2u);
  EXPECT_EQ(*server->remote_address(), good->local_address());
}

}  // namespace
}  // namespace moshx::net
