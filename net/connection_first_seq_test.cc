// Where a sender's sequence numbers start (docs/protocol.md §3.3): at the
// first_seq it was given, so that a key used by an earlier run of the same
// side never repeats a (key, nonce) pair; the receiver takes any start.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/connection.h"
#include "net/packet.h"
#include "net/session_key.h"
#include "net/testing/simulated_network.h"
#include "net/udp_path.h"

namespace moshx::net {
namespace {

using testing::SimulatedNetwork;

SessionKey TestKey() {
  std::array<uint8_t, 16> bytes;
  bytes.fill(9);
  return SessionKey(bytes);
}

TEST(TimeBasedFirstSequenceTest, IsUnixMicrosecondsTimes1024) {
  EXPECT_EQ(TimeBasedFirstSequence(absl::FromUnixMicros(1)), 1024u);
  EXPECT_EQ(TimeBasedFirstSequence(absl::FromUnixMicros(1'796'000'000'000'000)),
            uint64_t{1'796'000'000'000'000} * 1024);
}

TEST(TimeBasedFirstSequenceTest, LaterRunsStartBeyondWhatEarlierRunsCanSend) {
  // A run that starts 1 ms after another starts 1,024,000 numbers later.
  const absl::Time t = absl::FromUnixSeconds(1'796'000'000);
  EXPECT_EQ(TimeBasedFirstSequence(t + absl::Milliseconds(1)) - TimeBasedFirstSequence(t),
            1'024'000u);
}

TEST(TimeBasedFirstSequenceTest, StaysInsideThe63BitSequenceSpace) {
  EXPECT_EQ(TimeBasedFirstSequence(absl::UnixEpoch()), 0u);
  EXPECT_EQ(TimeBasedFirstSequence(absl::FromUnixSeconds(-5)), 0u);
  EXPECT_LE(TimeBasedFirstSequence(absl::InfiniteFuture()), kSeqMask);
  EXPECT_LE(TimeBasedFirstSequence(absl::FromUnixSeconds(int64_t{1} << 40)), kSeqMask);
}

class FirstSeqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_host_ = net_.AddHost("10.0.0.1");
    server_host_ = net_.AddHost("10.0.0.2");
    net_.set_tap([this](MonoTime, const Address&, const Address&, absl::string_view d) {
      sent_.push_back(std::string(d));
    });
  }

  std::unique_ptr<Connection> Make(Role role, uint64_t first_seq) {
    auto socket = role == Role::kServer ? server_host_->Bind(60001)
                                        : client_host_->Open(AddressFamily::kIPv4);
    EXPECT_TRUE(socket.ok());
    std::optional<Address> peer;
    if (role == Role::kClient) peer = server_host_->ip().WithPort(60001);
    auto path = UdpPath::Create(&net_, &net_, std::move(*socket), nullptr, peer);
    EXPECT_TRUE(path.ok());
    auto c = Connection::Create(&net_, std::move(*path), PacketCodec::Moshx(TestKey(), 42),
                                role, first_seq);
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  SimulatedNetwork net_{/*seed=*/5};
  SimulatedNetwork::Host* client_host_;
  SimulatedNetwork::Host* server_host_;
  std::vector<std::string> sent_;
};

TEST_F(FirstSeqTest, DatagramsCarryFirstSeqThenCountUpAndTheReceiverTakesThem) {
  const uint64_t first = TimeBasedFirstSequence(absl::FromUnixSeconds(1'796'000'000));
  std::unique_ptr<Connection> server = Make(Role::kServer, 0);
  std::unique_ptr<Connection> client = Make(Role::kClient, first);
  std::vector<std::string> got;
  server->set_receive_handler([&got](std::string p) { got.push_back(p); });
  for (const char* payload : {"a", "b", "c"}) ASSERT_TRUE(client->Send(payload).ok());
  net_.RunFor(absl::Milliseconds(10));
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(server->stats().out_of_order, 0u);
  ASSERT_EQ(sent_.size(), 3u);
  PacketCodec codec = PacketCodec::Moshx(TestKey(), 42);
  for (size_t i = 0; i < sent_.size(); ++i) {
    auto packet = codec.Open(sent_[i], Direction::kToServer);
    ASSERT_TRUE(packet.ok()) << packet.status();
    EXPECT_EQ(packet->seq, first + i);
  }
}

TEST_F(FirstSeqTest, FirstSeqBeyondTheSequenceSpaceIsRefused) {
  auto socket = client_host_->Open(AddressFamily::kIPv4);
  ASSERT_TRUE(socket.ok());
  auto path = UdpPath::Create(&net_, &net_, std::move(*socket), nullptr,
                              server_host_->ip().WithPort(60001));
  ASSERT_TRUE(path.ok());
  auto c = Connection::Create(&net_, std::move(*path), PacketCodec::Moshx(TestKey(), 42),
                              Role::kClient, kSeqMask + 1);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FirstSeqTest, LastSequenceNumberIsUsedThenSendingStops) {
  std::unique_ptr<Connection> client = Make(Role::kClient, kSeqMask);
  EXPECT_TRUE(client->Send("last").ok());
  EXPECT_EQ(client->Send("more").code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace moshx::net
