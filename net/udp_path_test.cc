#include "net/udp_path.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/packet_format.h"
#include "net/testing/simulated_network.h"

namespace moshx::net {
namespace {

using testing::SimulatedNetwork;

class UdpPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_host_ = net_.AddHost("10.0.0.1");
    server_host_ = net_.AddHost("10.0.0.2");
    server_ = *UdpPath::Create(&net_, &net_, *server_host_->Bind(60001), nullptr,
                               std::nullopt);
    client_ = *UdpPath::Create(&net_, &net_, *client_host_->Open(AddressFamily::kIPv4),
                               client_host_, server_host_->ip().WithPort(60001));
    server_->set_receive_handler([this](Datagram d) { server_got_.push_back(d); });
    client_->set_receive_handler([this](Datagram d) { client_got_.push_back(d); });
  }

  SimulatedNetwork net_{/*seed=*/11};
  SimulatedNetwork::Host* client_host_;
  SimulatedNetwork::Host* server_host_;
  std::unique_ptr<UdpPath> server_, client_;
  std::vector<Datagram> server_got_, client_got_;
};

TEST_F(UdpPathTest, ServerSendsNothingUntilTold) {
  EXPECT_FALSE(server_->peer().has_value());
  EXPECT_EQ(server_->Send("x").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(client_->Send("hello").ok());
  net_.RunFor(absl::Milliseconds(20));
  ASSERT_EQ(server_got_.size(), 1u);
  EXPECT_EQ(server_got_[0].payload, "hello");
  EXPECT_EQ(server_got_[0].from, client_->local_address());
  // Delivering a datagram does not move the peer: the Connection decides.
  EXPECT_FALSE(server_->peer().has_value());
  server_->SetPeer(server_got_[0].from);
  ASSERT_TRUE(server_->Send("world").ok());
  net_.RunFor(absl::Milliseconds(20));
  ASSERT_EQ(client_got_.size(), 1u);
  EXPECT_EQ(client_got_[0].payload, "world");
  server_->ClearPeer();
  EXPECT_EQ(server_->Send("x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(UdpPathTest, MtuIsThePeersFamilysAndDropsTo500OnEmsgsize) {
  EXPECT_EQ(client_->mtu(), kMtuIpv4);
  testing::LinkParams p;
  p.mtu = 700;
  p.mtu_behavior = testing::MtuBehavior::kEmsgsize;
  net_.SetLink(client_host_, server_host_, p);
  EXPECT_TRUE(IsDatagramTooLarge(client_->Send(std::string(1000, 'x'))));
  EXPECT_EQ(client_->mtu(), kMtuFallback);
  EXPECT_EQ(client_->stats().mtu_reductions, 1u);
  EXPECT_EQ(client_->stats().send_errors, 1u);
}

TEST_F(UdpPathTest, HopsOnlyWhenRoundTripsStopAndKeepsOldSocketsReceiving) {
  Address first = client_->local_address();
  net_.RunFor(absl::Seconds(11));
  client_->AfterSend(net_.Now(), /*last_roundtrip_success=*/net_.Now());
  EXPECT_EQ(client_->stats().port_hops, 0u);
  client_->AfterSend(net_.Now(), /*last_roundtrip_success=*/MonoTime());
  EXPECT_EQ(client_->stats().port_hops, 1u);
  EXPECT_NE(client_->local_address(), first);
  server_->SetPeer(first);
  ASSERT_TRUE(server_->Send("late").ok());
  net_.RunFor(absl::Milliseconds(20));
  ASSERT_EQ(client_got_.size(), 1u);
  EXPECT_EQ(client_got_[0].payload, "late");
}

TEST(UdpPathCreateTest, NeedsASocket) {
  SimulatedNetwork net(1);
  EXPECT_EQ(UdpPath::Create(&net, &net, nullptr, nullptr, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moshx::net
