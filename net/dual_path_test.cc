#include "net/dual_path.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/testing/counter_state.h"
#include "net/testing/fake_clock.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"
#include "net/udp_path.h"

namespace moshx::net {
namespace {

using Which = DualPath::Which;

// A path that records what is sent and delivers what the test says.
class FakePath : public Path {
 public:
  FakePath(Address peer, size_t mtu) : peer_(peer), mtu_(mtu) {}
  void set_receive_handler(ReceiveHandler handler) override { handler_ = std::move(handler); }
  absl::Status Send(absl::string_view datagram) override {
    if (!fail_with.ok()) return fail_with;
    sent.emplace_back(datagram);
    return absl::OkStatus();
  }
  size_t mtu() const override { return mtu_; }
  std::optional<Address> peer() const override { return peer_; }
  void SetPeer(const Address& peer) override { peer_ = peer; }
  void ClearPeer() override { peer_.reset(); }
  Address local_address() const override { return Address(); }
  PathStats stats() const override { return {}; }
  void Deliver(const std::string& payload) { handler_(Datagram{payload, *peer_}); }

  std::vector<std::string> sent;
  absl::Status fail_with;

 private:
  std::optional<Address> peer_;
  size_t mtu_;
  ReceiveHandler handler_;
};

// The switching rules in virtual time, with a stand-in for the Connection
// that calls OnAuthentic() for payloads named "ok" (and not for others).
class DualPathRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto udp = std::make_unique<FakePath>(*Address::Parse("10.0.0.2", 60001), 1252);
    auto ssh = std::make_unique<FakePath>(Address(), 2048);
    udp_ = udp.get();
    ssh_ = ssh.get();
    path_ = *DualPath::Create(&clock_, std::move(udp), std::move(ssh));
    path_->set_receive_handler([this](Datagram d) {
      if (d.payload == "ok") path_->OnAuthentic(clock_.Now());
    });
    path_->set_change_handler([this](Which w, const std::string& why) {
      moves_.push_back({w, why});
    });
  }
  // Sends one datagram every 100 ms for `d`.
  void SendFor(absl::Duration d) {
    for (absl::Duration t; t < d; t += absl::Milliseconds(100)) {
      path_->Send("x").IgnoreError();
      clock_.Advance(absl::Milliseconds(100));
    }
  }

  testing::FakeClock clock_;
  FakePath* udp_;
  FakePath* ssh_;
  std::unique_ptr<DualPath> path_;
  std::vector<std::pair<Which, std::string>> moves_;
};

TEST_F(DualPathRulesTest, StaysOnUdpWhileItAnswers) {
  for (int i = 0; i < 100; ++i) {  // 30 s, an authentic reply every 3 s
    if (i % 10 == 0) udp_->Deliver("ok");
    SendFor(absl::Milliseconds(300));
  }
  EXPECT_EQ(path_->active(), Which::kPreferred);
  EXPECT_TRUE(ssh_->sent.empty());
  EXPECT_TRUE(moves_.empty());
  EXPECT_EQ(path_->mtu(), 1252u);  // the smaller: a move never makes a datagram too large
}

TEST_F(DualPathRulesTest, NoUdpReplyWithinTwoSecondsMovesToSsh) {
  SendFor(absl::Milliseconds(1900));
  EXPECT_EQ(path_->active(), Which::kPreferred);
  SendFor(absl::Milliseconds(200));
  EXPECT_EQ(path_->active(), Which::kFallback);
  ASSERT_EQ(moves_.size(), 1u);
  EXPECT_EQ(moves_[0].second, "no UDP reply within 2s");
  EXPECT_FALSE(ssh_->sent.empty());
}

TEST_F(DualPathRulesTest, UnauthenticUdpTrafficDoesNotCount) {
  for (int i = 0; i < 30; ++i) {
    udp_->Deliver("forged");
    SendFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(path_->active(), Which::kFallback);
}

TEST_F(DualPathRulesTest, UdpSilenceMidSessionMovesToSshAndAnAuthenticUdpDatagramMovesBack) {
  udp_->Deliver("ok");
  SendFor(absl::Milliseconds(3900));
  EXPECT_EQ(path_->active(), Which::kPreferred);
  SendFor(absl::Seconds(1));
  ASSERT_EQ(path_->active(), Which::kFallback);
  EXPECT_EQ(moves_.back().second.rfind("UDP silent for 4s", 0), 0u) << moves_.back().second;
  // An authentic datagram over SSH keeps it there; over UDP moves it back.
  ssh_->Deliver("ok");
  EXPECT_EQ(path_->active(), Which::kFallback);
  udp_->Deliver("ok");
  EXPECT_EQ(path_->active(), Which::kPreferred);
  EXPECT_EQ(moves_.back().second, "UDP works again");
}

TEST_F(DualPathRulesTest, OnSshUdpIsProbedInShortWindowsOnly) {
  SendFor(absl::Milliseconds(2100));  // -> SSH at the send at 2.0 s
  ASSERT_EQ(path_->active(), Which::kFallback);
  const size_t udp_before = udp_->sent.size();
  const size_t ssh_before = ssh_->sent.size();
  SendFor(absl::Seconds(10));  // 100 sends, at 2.1 s .. 12.0 s
  EXPECT_EQ(ssh_->sent.size() - ssh_before, 100u);  // every datagram over SSH
  // Windows of 0.5 s every 2 s from 2 s after the move: at 4, 6, 8 and 10 s
  // five sends each, at 12 s the first of the next.
  EXPECT_EQ(udp_->sent.size() - udp_before, 21u);
}

// Behind a ProxyJump: on SSH from the first datagram, UDP probed at once,
// and the first authentic UDP datagram moves it to UDP.
TEST_F(DualPathRulesTest, StartOnFallbackSendsOverSshFirstAndProbesUdpAtOnce) {
  auto udp = std::make_unique<FakePath>(*Address::Parse("10.0.0.2", 60001), 1252);
  auto ssh = std::make_unique<FakePath>(Address(), 2048);
  FakePath* u = udp.get();
  FakePath* h = ssh.get();
  DualPathOptions options;
  options.start_on_fallback = true;
  auto path = *DualPath::Create(&clock_, std::move(udp), std::move(ssh), options);
  std::vector<std::string> why;
  path->set_change_handler([&why](Which, const std::string& reason) { why.push_back(reason); });
  path->set_receive_handler([&](Datagram d) {
    if (d.payload == "ok") path->OnAuthentic(clock_.Now());
  });
  EXPECT_EQ(path->active(), Which::kFallback);
  for (int i = 0; i < 5; ++i) {  // 0 .. 0.4 s: the first probe window
    ASSERT_TRUE(path->Send("x").ok());
    clock_.Advance(absl::Milliseconds(100));
  }
  EXPECT_EQ(h->sent.size(), 5u);
  EXPECT_EQ(u->sent.size(), 5u);
  ASSERT_TRUE(path->Send("x").ok());  // 0.5 s: the window closed
  EXPECT_EQ(u->sent.size(), 5u);
  h->Deliver("ok");  // authentic over SSH: stays
  EXPECT_EQ(path->active(), Which::kFallback);
  u->Deliver("ok");
  EXPECT_EQ(path->active(), Which::kPreferred);
  EXPECT_EQ(why, std::vector<std::string>{"UDP works again"});
}

TEST_F(DualPathRulesTest, AFailedSshPathIsGivenUp) {
  SendFor(absl::Seconds(3));
  ASSERT_EQ(path_->active(), Which::kFallback);
  ssh_->fail_with = absl::AbortedError("stream path: end of stream");
  EXPECT_FALSE(path_->Send("x").ok());
  EXPECT_EQ(path_->active(), Which::kPreferred);
  EXPECT_TRUE(path_->fallback_failed());
  SendFor(absl::Seconds(10));  // UDP silent, but there is nothing to move to
  EXPECT_EQ(path_->active(), Which::kPreferred);
}

// A reconnected SSH connection takes the failed one's place: while UDP is
// still silent the next send moves onto it, and what it delivers arrives.
TEST_F(DualPathRulesTest, AReplacedFallbackIsUsedAtOnceWhileUdpIsSilent) {
  SendFor(absl::Seconds(3));
  ssh_->fail_with = absl::AbortedError("stream path: end of stream");
  EXPECT_FALSE(path_->Send("x").ok());
  ASSERT_TRUE(path_->fallback_failed());
  auto fresh = std::make_unique<FakePath>(Address(), 2048);
  fresh->ClearPeer();
  EXPECT_FALSE(path_->ReplaceFallback(std::move(fresh)).ok());  // no peer: refused
  EXPECT_TRUE(path_->fallback_failed());
  fresh = std::make_unique<FakePath>(Address(), 2048);
  FakePath* f = fresh.get();
  ASSERT_TRUE(path_->ReplaceFallback(std::move(fresh)).ok());
  EXPECT_FALSE(path_->fallback_failed());
  ssh_ = nullptr;  // the old one is gone
  ASSERT_TRUE(path_->Send("y").ok());
  EXPECT_EQ(path_->active(), Which::kFallback);
  EXPECT_EQ(f->sent, std::vector<std::string>{"y"});
  std::vector<std::string> got;
  path_->set_receive_handler([&got](Datagram d) { got.push_back(d.payload); });
  f->Deliver("z");
  EXPECT_EQ(got, std::vector<std::string>{"z"});
}

TEST_F(DualPathRulesTest, AFullSshBufferIsNotAFailure) {
  SendFor(absl::Seconds(3));
  ssh_->fail_with = absl::UnavailableError("stream path: output buffer full");
  SendFor(absl::Seconds(1));
  EXPECT_EQ(path_->active(), Which::kFallback);
  EXPECT_FALSE(path_->fallback_failed());
}

// A whole client/server association in virtual time: the client's DualPath
// has a UDP path from host "udp" and, standing in for the SSH bridge, a UDP
// path from host "ssh" (to the server both are addresses a client sends
// from, as the real bridge is). The "udp" link is blocked and unblocked.
class DualPathSessionTest : public ::testing::Test {
 protected:
  using CounterTransport = Transport<testing::CounterState, testing::CounterState>;

  void Start() {
    udp_host_ = net_.AddHost("10.0.0.1");
    ssh_host_ = net_.AddHost("10.0.0.3");
    server_host_ = net_.AddHost("10.0.0.2");
    testing::LinkParams link;
    link.delay = absl::Milliseconds(25);
    net_.SetLinks(ssh_host_, server_host_, link);
    SetUdp(blocked_at_start_);
    std::array<uint8_t, 16> key_bytes{};
    key_bytes[0] = 7;
    const SessionKey key(key_bytes);
    const Address server = server_host_->ip().WithPort(60001);
    server_ = *CounterTransport::Create(
        {&net_, &net_, *server_host_->Bind(60001), nullptr, absl::BitGenRef(rng_)}, key,
        {Role::kServer, WireMode::kMoshx, 9, std::nullopt, std::nullopt});
    auto udp = *UdpPath::Create(&net_, &net_, *udp_host_->Open(AddressFamily::kIPv4), nullptr,
                                server);
    auto ssh = *UdpPath::Create(&net_, &net_, *ssh_host_->Open(AddressFamily::kIPv4), nullptr,
                                server);
    auto dual = *DualPath::Create(&net_, std::move(udp), std::move(ssh));
    dual_ = dual.get();
    dual_->set_change_handler([this](Which w, const std::string&) {
      moves_.push_back({net_.Now(), w});
    });
    TransportDeps deps{&net_, &net_, nullptr, nullptr, absl::BitGenRef(rng_)};
    deps.path = std::move(dual);
    client_ = *CounterTransport::Create(
        std::move(deps), key, {Role::kClient, WireMode::kMoshx, 9, std::nullopt, std::nullopt});
  }
  void SetUdp(bool blocked) {
    testing::LinkParams link;
    link.delay = absl::Milliseconds(10);
    link.loss = blocked ? 1.0 : 0.0;
    net_.SetLinks(udp_host_, server_host_, link);
  }
  // The client's state changes; true once the server has it.
  bool Typed(int n, absl::Duration limit) {
    client_->mutable_local_state().Add(n);
    return net_.RunUntil([&] { return server_->remote_state() == client_->local_state(); },
                         limit);
  }
  // Runs until the client's path is `which`; how long that took (or nullopt).
  std::optional<absl::Duration> TimeUntil(Which which, absl::Duration limit) {
    const MonoTime start = net_.Now();
    if (!net_.RunUntil([&] { return dual_->active() == which; }, limit)) return std::nullopt;
    return net_.Now() - start;
  }

  testing::SimulatedNetwork net_{15};
  std::mt19937_64 rng_{15};
  bool blocked_at_start_ = false;
  testing::SimulatedNetwork::Host* udp_host_;
  testing::SimulatedNetwork::Host* ssh_host_;
  testing::SimulatedNetwork::Host* server_host_;
  std::unique_ptr<CounterTransport> server_, client_;
  DualPath* dual_ = nullptr;
  std::vector<std::pair<MonoTime, Which>> moves_;
};

TEST_F(DualPathSessionTest, UdpBlockedFromTheStartRunsOverSsh) {
  blocked_at_start_ = true;
  Start();
  std::optional<absl::Duration> t = TimeUntil(Which::kFallback, absl::Seconds(10));
  ASSERT_TRUE(t.has_value());
  EXPECT_LE(*t, absl::Seconds(4));
  EXPECT_TRUE(Typed(1, absl::Seconds(2)));
  const uint64_t udp_delivered = net_.stats(udp_host_, server_host_).delivered;
  EXPECT_EQ(udp_delivered, 0u);
}

TEST_F(DualPathSessionTest, MovesToSshWithin5sOfABlockAndBackWithin5sOfTheUnblock) {
  Start();
  ASSERT_TRUE(Typed(1, absl::Seconds(2)));
  net_.RunFor(absl::Seconds(20));  // idle: heartbeats keep it on UDP
  EXPECT_EQ(dual_->active(), Which::kPreferred);
  EXPECT_TRUE(moves_.empty());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    SetUdp(/*blocked=*/true);
    std::optional<absl::Duration> to_ssh = TimeUntil(Which::kFallback, absl::Seconds(10));
    ASSERT_TRUE(to_ssh.has_value());
    EXPECT_LE(*to_ssh, absl::Seconds(5));
    EXPECT_TRUE(Typed(2, absl::Seconds(3)));  // the session works over SSH
    net_.RunFor(absl::Seconds(7));  // idle on SSH: probes stay unanswered
    EXPECT_EQ(dual_->active(), Which::kFallback);
    SetUdp(/*blocked=*/false);
    std::optional<absl::Duration> to_udp = TimeUntil(Which::kPreferred, absl::Seconds(10));
    ASSERT_TRUE(to_udp.has_value());
    EXPECT_LE(*to_udp, absl::Seconds(5));
    EXPECT_TRUE(Typed(3, absl::Seconds(2)));
    // Settled: the server answers over UDP again, nothing new goes over SSH.
    net_.RunFor(absl::Seconds(2));
    const uint64_t ssh_sent = dual_->sent_fallback();
    net_.RunFor(absl::Seconds(10));
    EXPECT_EQ(dual_->sent_fallback(), ssh_sent);
    EXPECT_EQ(dual_->active(), Which::kPreferred);
  }
}

}  // namespace
}  // namespace moshx::net
