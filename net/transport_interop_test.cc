// The transport against datagrams captured from the real mosh 1.4 programs
// (docs/protocol.md §13): a moshx server accepts the real client's first datagram and
// answers like the real server; a moshx client follows the real server's
// datagrams through to the shutdown handshake.
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "net/compressor.h"
#include "net/fragment.h"
#include "net/packet.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"

namespace moshx::net {
namespace {

using testing::SimulatedNetwork;

// A state that is just the concatenation of every diff applied to it, so
// the real programs' UserMessage/HostMessage bytes can be observed as-is.
class OpaqueState {
 public:
  std::string DiffFrom(const OpaqueState& ref) const {
    return bytes_.substr(std::min(ref.bytes_.size(), bytes_.size()));
  }
  absl::Status ApplyDiff(absl::string_view diff) {
    bytes_.append(diff.data(), diff.size());
    return absl::OkStatus();
  }
  std::string InitDiff() const { return bytes_; }
  void Subtract(const OpaqueState&) {}
  friend bool operator==(const OpaqueState& a, const OpaqueState& b) {
    return a.bytes_ == b.bytes_;
  }
  std::string& bytes() { return bytes_; }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};
using OpaqueTransport = Transport<OpaqueState, OpaqueState>;

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// Decrypts and reassembles what `transport` sent, one Instruction per call.
class Sniffer {
 public:
  Sniffer(const SessionKey& key, Direction dir)
      : codec_(PacketCodec::Mosh(key)), dir_(dir), zlib_(NewCompressor(WireMode::kMosh)),
        assembler_(zlib_.get()) {}
  std::vector<Instruction> instructions;
  std::vector<Packet> packets;
  void Feed(absl::string_view datagram) {
    absl::StatusOr<Packet> p = codec_.Open(datagram, dir_);
    ASSERT_TRUE(p.ok()) << p.status();
    packets.push_back(*p);
    auto inst = assembler_.Add(p->payload);
    ASSERT_TRUE(inst.ok()) << inst.status();
    if (inst->has_value()) instructions.push_back(**inst);
  }

 private:
  PacketCodec codec_;
  Direction dir_;
  std::unique_ptr<Compressor> zlib_;
  FragmentAssembler assembler_;
};

TEST(TransportInteropTest, ServerAcceptsRealClientFirstDatagramAndAcksLikeMosh) {
  SessionKey key = *SessionKey::FromBase64("AAECAwQFBgcICQoLDA0ODw");
  SimulatedNetwork net(1);
  auto* host = net.AddHost("10.0.0.2");
  std::mt19937_64 rng(1);
  auto server = *OpaqueTransport::Create(
      {&net, &net, *host->Bind(60001), nullptr, absl::BitGenRef(rng)}, key,
      {Role::kServer, WireMode::kMosh, 0, std::nullopt, std::nullopt});
  Sniffer sniffer(key, Direction::kToClient);
  net.set_tap([&](MonoTime, const Address&, const Address&, absl::string_view d) {
    sniffer.Feed(d);
  });
  Address client = *Address::Parse("10.0.0.1", 50000);
  net.Inject(client, host->ip().WithPort(60001),
             Hex("0000000000000000517d66f4084be973226e05710c1e899b02428c8571949d686f44"
                 "20ca31f0060ca43d50ffb19ef09836fbdba15fb460a6f099c2102c9578f1bd8c6ad8e120"));
  net.RunFor(absl::Milliseconds(5));
  EXPECT_EQ(server->remote_state_num(), 1u);
  EXPECT_EQ(server->remote_state().bytes(), Hex("0a061a0428503018"));  // resize 80x24
  EXPECT_EQ(*server->connection().remote_address(), client);
  // The immediate empty ack: old 0, new 1, ack 1, throwaway 0 (datagram A of
  // docs/protocol.md §13), echoing the client's timestamp 0x6A48 after 0 ms.
  ASSERT_EQ(sniffer.instructions.size(), 1u);
  const Instruction& ack = sniffer.instructions[0];
  EXPECT_EQ(ack.protocol_version, 2u);
  EXPECT_EQ(ack.old_num, 0u);
  EXPECT_EQ(ack.new_num, 1u);
  EXPECT_EQ(ack.ack_num, 1u);
  EXPECT_EQ(ack.throwaway_num, 0u);
  EXPECT_EQ(ack.diff, "");
  EXPECT_LE(ack.chaff.size(), 16u);
  EXPECT_EQ(sniffer.packets[0].seq, 0u);
  EXPECT_EQ(sniffer.packets[0].timestamp_reply, 0x6A48);
}

TEST(TransportInteropTest, ClientFollowsRealServerThroughShutdown) {
  SessionKey key = *SessionKey::FromBase64("yfi5jaTP2K/CsA6aplgHnw");
  SimulatedNetwork net(2);
  auto* host = net.AddHost("10.0.0.1");
  Address server = *Address::Parse("10.0.0.2", 60001);
  std::mt19937_64 rng(2);
  auto client = *OpaqueTransport::Create(
      {&net, &net, *host->Bind(50000), nullptr, absl::BitGenRef(rng)}, key,
      {Role::kClient, WireMode::kMosh, 0, server, std::nullopt});
  client->mutable_local_state().bytes() = Hex("0a061a0428503018");  // state 1: resize
  Sniffer sniffer(key, Direction::kToServer);
  net.set_tap([&](MonoTime, const Address&, const Address&, absl::string_view d) {
    sniffer.Feed(d);
  });
  net.RunFor(absl::Milliseconds(300));
  Address me = client->connection().local_address();
  const char* kA =
      "80000000000000008900ed939d062adceb09c37aab9082319c47c46d3d8ef67ace6609db33e6f5e5b5"
      "213e47f1b62a0cb6d42e675b091d16e9c5bc7fcb36d2";
  const char* kB =
      "80000000000000019f9bfd0cada7c881b91dc2576f68476338746b462767d65d5ddfcb6f3395e9fc07"
      "e18302027980231e3a6b8602106a40d752021a8c04be69db0b3220ff58a4e35a1f9e890a79765d7e38"
      "740c5ccbad482526";
  const char* kC =
      "8000000000000002d2ed67bb518a0c9c13af246364c35993a544b6bf6c8a28f9ff49aa2727c6ae9584"
      "a18c54a0ff49f4a031a92807cf88da87ae27b3cbaca40a0578fcff80";
  net.Inject(server, me, Hex(kA));
  net.Inject(server, me, Hex(kB), absl::Milliseconds(1));
  net.RunFor(absl::Milliseconds(10));
  EXPECT_EQ(client->remote_state_num(), 2u);
  EXPECT_EQ(client->remote_state().bytes(),
            Hex("0a043a0240010a131211220f1b5b3f32356c0a68691b5b3f323568"));
  EXPECT_EQ(client->scheduler().front().num, 1u);  // the server acked state 1
  net.Inject(server, me, Hex(kC));
  // The ack goes out at back.send_time + send_interval
  // (docs/protocol.md §6.8): here the
  // client sent its state 2 at 250 ms and has no RTT sample, so by 500 ms.
  net.RunFor(absl::Milliseconds(250));
  const TransportStats& st = client->stats();
  EXPECT_TRUE(client->counterparty_shutting_down())
      << "received " << st.instructions_received << " frag " << st.fragment_drops << " dup "
      << st.duplicate_states << " missing " << st.missing_reference << " throw "
      << st.bad_throwaway << " apply " << st.apply_failures << " auth "
      << client->connection().stats().dropped_auth << " malformed "
      << client->connection().stats().dropped_malformed;
  EXPECT_TRUE(client->counterparty_shutdown_ack_sent());
  // Its last instruction acknowledges the shutdown state at once.
  ASSERT_FALSE(sniffer.instructions.empty());
  EXPECT_EQ(sniffer.instructions.back().ack_num, kShutdownNum);
  EXPECT_EQ(client->connection().stats().dropped_auth, 0u);
}

}  // namespace
}  // namespace moshx::net
