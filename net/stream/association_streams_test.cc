#include "net/stream/association_streams.h"

#include <memory>
#include <optional>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "net/packet_format.h"
#include "net/testing/counter_state.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"

namespace moshx::net::stream {
namespace {

using net::testing::CounterState;
using net::testing::LinkParams;
using net::testing::SimulatedNetwork;
using CounterTransport = Transport<CounterState, CounterState>;

constexpr uint16_t kServerPort = 60001;

SessionKey TestKey() {
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(i * 29 + 1);
  return SessionKey(bytes);
}

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Two transports of one association on the simulated network, each with its
// streams when the mode allows them.
class Association {
 public:
  Association(uint64_t seed, WireMode mode, const LinkParams& link)
      : net_(seed), client_rng_(seed + 1), server_rng_(seed + 2) {
    client_host_ = net_.AddHost("10.0.0.1");
    server_host_ = net_.AddHost("10.0.0.2");
    net_.SetLinks(client_host_, server_host_, link);
    server_ = *CounterTransport::Create(
        {&net_, &net_, *server_host_->Bind(kServerPort), nullptr, absl::BitGenRef(server_rng_)},
        TestKey(), {Role::kServer, mode, 7, std::nullopt, std::nullopt});
    client_ = *CounterTransport::Create(
        {&net_, &net_, *client_host_->Open(AddressFamily::kIPv4), client_host_,
         absl::BitGenRef(client_rng_)},
        TestKey(), {Role::kClient, mode, 7, server_host_->ip().WithPort(kServerPort), std::nullopt});
    if (mode != WireMode::kMoshx) return;
    MuxConfig sc;
    sc.is_server = true;
    server_streams_ = *AssociationStreams::Create(&net_, &net_, &server_->core(), sc);
    client_streams_ = *AssociationStreams::Create(&net_, &net_, &client_->core(), MuxConfig());
    server_->set_remote_address_observer([this](std::optional<Address> a) {
      if (a.has_value()) server_streams_->OnPathChange();
    });
  }

  SimulatedNetwork net_;
  std::mt19937_64 client_rng_;
  std::mt19937_64 server_rng_;
  SimulatedNetwork::Host* client_host_;
  SimulatedNetwork::Host* server_host_;
  std::unique_ptr<CounterTransport> server_;
  std::unique_ptr<CounterTransport> client_;
  std::unique_ptr<AssociationStreams> server_streams_;
  std::unique_ptr<AssociationStreams> client_streams_;
};

// Sends `data` on a new client stream and collects what the server reads,
// while the client's SSP state keeps changing.
struct Transfer {
  Association* a;
  std::string data;
  size_t written = 0;
  std::optional<StreamId> server_id;
  std::string got;
  bool eof = false;

  void Start() {
    StreamMux& cm = a->client_streams_->mux();
    StreamId id = *cm.Open();
    cm.SetCallbacks(id, {nullptr, [this, id] { Pump(id); }, nullptr}).IgnoreError();
    a->server_streams_->mux().set_incoming_handler([this](StreamId sid) {
      server_id = sid;
      a->server_streams_->mux()
          .SetCallbacks(sid, {[this] { Drain(); }, nullptr, nullptr})
          .IgnoreError();
    });
    Pump(id);
  }
  void Pump(StreamId id) {
    StreamMux& cm = a->client_streams_->mux();
    written += cm.Write(id, absl::string_view(data).substr(written));
    if (written == data.size()) cm.Finish(id);
  }
  void Drain() {
    StreamMux& sm = a->server_streams_->mux();
    for (std::string s = sm.Read(*server_id, 1 << 20); !s.empty();
         s = sm.Read(*server_id, 1 << 20)) {
      got += s;
    }
    if (sm.AtEof(*server_id)) eof = true;
  }
};

TEST(AssociationStreamsTest, CarriesAStreamBesideTheTerminalAtTenPercentLoss) {
  LinkParams link;
  link.delay = absl::Milliseconds(25);
  link.loss = 0.10;
  Association a(/*seed=*/11, WireMode::kMoshx, link);
  Transfer t{&a, Pattern(2 << 20, 3)};
  t.Start();
  for (int i = 0; i < 20; ++i) {
    a.client_->mutable_local_state().Add(1);
    a.net_.RunFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(a.net_.RunUntil(
      [&] {
        return t.eof && a.server_->remote_state() == a.client_->local_state();
      },
      absl::Seconds(120)));
  EXPECT_EQ(t.got.size(), t.data.size());
  EXPECT_TRUE(t.got == t.data);
  EXPECT_EQ(a.server_->remote_state().value(), 20u);
  EXPECT_GT(a.client_->stats().typed_frames_sent, 1000u);
  EXPECT_EQ(a.server_->stats().unknown_frame_types, 0u);
  EXPECT_EQ(a.server_->stats().fragment_drops, 0u);  // no mux frame reached SSP
}

TEST(AssociationStreamsTest, StreamSurvivesAClientRoam) {
  LinkParams link;
  link.delay = absl::Milliseconds(25);
  Association a(/*seed=*/12, WireMode::kMoshx, link);
  Transfer t{&a, Pattern(4 << 20, 4)};
  t.Start();
  ASSERT_TRUE(a.net_.RunUntil([&] { return t.got.size() > (1u << 20); }, absl::Seconds(30)));
  a.net_.Rebind(a.client_host_, "10.0.0.9");
  a.net_.SetLinks(a.client_host_, a.server_host_, link);
  ASSERT_TRUE(a.net_.RunUntil([&] { return t.eof; }, absl::Seconds(60)));
  EXPECT_TRUE(t.got == t.data);
  EXPECT_GE(a.server_streams_->mux().stats().path_changes, 1u);
  EXPECT_EQ(a.server_->connection().remote_address()->IpString(), "10.0.0.9");
}

TEST(AssociationStreamsTest, FrameOfUnknownTypeIsACountedDrop) {
  Association a(/*seed=*/13, WireMode::kMoshx, LinkParams());
  a.net_.RunFor(absl::Milliseconds(100));  // the server learns the client's address
  ASSERT_TRUE(a.client_->core().SendFrame(9, "who am I").ok());
  a.net_.RunFor(absl::Milliseconds(100));
  EXPECT_EQ(a.server_->stats().unknown_frame_types, 1u);
  EXPECT_EQ(a.server_->stats().fragment_drops, 0u);
}

TEST(AssociationStreamsTest, MoshModeHasNoFrameTypes) {
  Association a(/*seed=*/14, WireMode::kMosh, LinkParams());
  EXPECT_EQ(AssociationStreams::Create(&a.net_, &a.net_, &a.client_->core(), MuxConfig())
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(a.client_->core().SendFrame(kFrameTypeStreams, "x").ok());
  // SSP still converges with mosh's wire (interop: net/transport_interop_test).
  a.client_->mutable_local_state().Add(5);
  ASSERT_TRUE(a.net_.RunUntil(
      [&] { return a.server_->remote_state() == a.client_->local_state(); }, absl::Seconds(5)));
}

TEST(AssociationStreamsTest, SspFrameSizeLeavesRoomForTheTypeByte) {
  Association a(/*seed=*/15, WireMode::kMoshx, LinkParams());
  EXPECT_EQ(a.client_->core().max_frame_size(), MaxTypedFrameSize(kMtuIpv4));
  EXPECT_EQ(a.client_->connection().max_fragment_contents(),
            kMtuIpv4 - PacketOverhead(WireMode::kMoshx) - kFrameTypeSize - kFragmentHeaderSize);
  std::string too_big(a.client_->core().max_frame_size() + 1, 'x');
  EXPECT_FALSE(a.client_->core().SendFrame(kFrameTypeStreams, too_big).ok());
}

}  // namespace
}  // namespace moshx::net::stream
