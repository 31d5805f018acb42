#include "net/dispatcher.h"

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/packet.h"
#include "net/testing/counter_state.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"
#include "net/udp_socket.h"

// Every allocation of this test binary is counted, so a test can assert that
// a stretch of code allocated nothing.
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace moshx::net {
namespace {

using testing::CounterState;
using testing::LinkParams;
using testing::SimulatedNetwork;
using CounterTransport = Transport<CounterState, CounterState>;

constexpr uint16_t kServerPort = 60001;

SessionKey KeyFor(int association) {
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(i * 31 + association * 7 + 1);
  return SessionKey(bytes);
}

uint64_t IdFor(int association) { return 0x5eed000000000000ULL + 7919ULL * association; }

// A link at `loss` with the jitter, duplication and reordering of the
// transport tests.
LinkParams Lossy(double loss) {
  LinkParams p;
  p.delay = absl::Milliseconds(40);
  p.jitter = absl::Milliseconds(10);
  p.loss = loss;
  p.duplicate = 0.05;
  p.reorder = 0.1;
  p.reorder_delay = absl::Milliseconds(40);
  return p;
}

// The server side's associations all share one dispatcher on one socket;
// each client runs an ordinary UDP transport from its own socket.
TEST(DispatcherTest, FiftyAssociationsOnOneSocketEachConvergeAtTwentyPercentLoss) {
  constexpr int kAssociations = 50;
  constexpr int kClientHosts = 5;
  SimulatedNetwork net(/*seed=*/12);
  std::mt19937_64 rng(99);
  SimulatedNetwork::Host* server_host = net.AddHost("10.1.0.1");
  std::vector<SimulatedNetwork::Host*> client_hosts;
  for (int h = 0; h < kClientHosts; ++h) {
    client_hosts.push_back(net.AddHost("10.2.0." + std::to_string(h + 1)));
    net.SetLinks(client_hosts.back(), server_host, Lossy(0.20));
  }
  auto dispatcher =
      *Dispatcher::Create(&net, *server_host->Bind(kServerPort), WireMode::kMoshx);
  Address server_addr = server_host->ip().WithPort(kServerPort);

  std::vector<std::unique_ptr<CounterTransport>> servers, clients;
  for (int i = 0; i < kAssociations; ++i) {
    absl::StatusOr<std::unique_ptr<Path>> path =
        dispatcher->AddAssociation(IdFor(i), std::nullopt);
    ASSERT_TRUE(path.ok()) << path.status();
    TransportDeps sd{&net, &net, nullptr, nullptr, absl::BitGenRef(rng), std::move(*path)};
    auto server = CounterTransport::Create(
        std::move(sd), KeyFor(i),
        {Role::kServer, WireMode::kMoshx, IdFor(i), std::nullopt, std::nullopt});
    ASSERT_TRUE(server.ok()) << server.status();
    servers.push_back(std::move(*server));
    SimulatedNetwork::Host* ch = client_hosts[i % kClientHosts];
    auto client = CounterTransport::Create(
        {&net, &net, *ch->Open(AddressFamily::kIPv4), ch, absl::BitGenRef(rng)}, KeyFor(i),
        {Role::kClient, WireMode::kMoshx, IdFor(i), server_addr, std::nullopt});
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(std::move(*client));
  }
  EXPECT_EQ(dispatcher->association_count(), size_t{kAssociations});

  // Every association gets its own values, changed several times.
  for (int step = 1; step <= 5; ++step) {
    net.ScheduleAlarm(net.Now() + absl::Milliseconds(200) * step, [&, step] {
      for (int i = 0; i < kAssociations; ++i) {
        clients[i]->mutable_local_state().Add(1000 * step + i);
        servers[i]->mutable_local_state().Add(100000 * step + 3 * i);
      }
    });
  }
  auto converged = [&] {
    for (int i = 0; i < kAssociations; ++i) {
      if (clients[i]->local_state().value() == 0) return false;  // before the updates
      if (!(servers[i]->remote_state() == clients[i]->local_state()) ||
          !(clients[i]->remote_state() == servers[i]->local_state())) {
        return false;
      }
    }
    return true;
  };
  net.RunFor(absl::Seconds(1) + absl::Milliseconds(10));  // all updates made
  ASSERT_TRUE(net.RunUntil(converged, absl::Seconds(30)));

  for (int i = 0; i < kAssociations; ++i) {
    SCOPED_TRACE(i);
    uint64_t client_value = 0, server_value = 0;
    for (int step = 1; step <= 5; ++step) {
      client_value += 1000 * step + i;
      server_value += 100000 * step + 3 * i;
    }
    EXPECT_EQ(servers[i]->remote_state().value(), client_value);
    EXPECT_EQ(clients[i]->remote_state().value(), server_value);
    // Nothing of another association reached this one.
    EXPECT_EQ(servers[i]->connection().stats().dropped_auth, 0u);
    EXPECT_EQ(servers[i]->stats().apply_failures, 0u);
    EXPECT_EQ(*servers[i]->connection().remote_address(),
              clients[i]->connection().local_address());
  }
  EXPECT_EQ(dispatcher->stats().dropped_unknown_id, 0u);
  EXPECT_EQ(dispatcher->stats().routed, dispatcher->stats().datagrams_received);
  servers.clear();  // paths before the dispatcher
  EXPECT_EQ(dispatcher->association_count(), 0u);
}

// A loop that only records the dispatcher's watch, so the test can run the
// readable callback by itself and count what it allocates.
class RecordingLoop : public EventLoop {
 public:
  absl::Status WatchFd(int fd, uint32_t, FdCallback callback) override {
    callbacks_[fd] = std::move(callback);
    return absl::OkStatus();
  }
  void UnwatchFd(int fd) override { callbacks_.erase(fd); }
  AlarmId ScheduleAlarm(MonoTime, std::function<void()>) override { return 1; }
  bool CancelAlarm(AlarmId) override { return false; }
  absl::Status WatchSignal(int, std::function<void()>) override { return absl::OkStatus(); }
  absl::Status RunOnce(absl::Duration) override { return absl::OkStatus(); }

  void Readable(int fd) { callbacks_.at(fd)(kReadable); }
  bool watching(int fd) const { return callbacks_.count(fd) > 0; }

 private:
  std::map<int, FdCallback> callbacks_;
};

// A sealed moshx datagram for `id` (any key: the dispatcher does not open it).
std::string MoshxDatagram(uint64_t id, uint64_t seq) {
  PacketCodec codec = PacketCodec::Moshx(KeyFor(0), id);
  Packet p;
  p.seq = seq;
  p.payload = std::string(40, 'p');
  return codec.Seal(p);
}

class DispatcherSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Address loopback = *Address::Parse("127.0.0.1", 0);
    auto socket = UdpSocket::Bind(loopback, {0, 0});
    ASSERT_TRUE(socket.ok()) << socket.status();
    fd_ = (*socket)->fd();
    auto d = Dispatcher::Create(&loop_, std::move(*socket), WireMode::kMoshx);
    ASSERT_TRUE(d.ok()) << d.status();
    dispatcher_ = std::move(*d);
    auto sender = UdpSocket::Bind(loopback, {0, 0});
    ASSERT_TRUE(sender.ok()) << sender.status();
    sender_ = std::move(*sender);
  }
  void TearDown() override { dispatcher_.reset(); }

  void SendToDispatcher(const std::string& datagram) {
    ASSERT_TRUE(sender_->SendTo(dispatcher_->local_address(), datagram).ok());
  }

  RecordingLoop loop_;
  int fd_ = -1;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<UdpSocket> sender_;
};

TEST_F(DispatcherSocketTest, UnknownIdsAreCountedDropsThatAllocateNothing) {
  auto path = *dispatcher_->AddAssociation(IdFor(1), std::nullopt);
  std::vector<Datagram> got;
  path->set_receive_handler([&](Datagram d) { got.push_back(std::move(d)); });
  constexpr int kUnknown = 40;
  std::vector<std::string> unknown;
  for (int i = 0; i < kUnknown; ++i) unknown.push_back(MoshxDatagram(IdFor(2) + i, i));
  for (const std::string& d : unknown) SendToDispatcher(d);

  uint64_t before = g_allocations.load();
  loop_.Readable(fd_);  // reads all 40 and the would-block that ends the burst
  uint64_t allocated = g_allocations.load() - before;

  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(dispatcher_->stats().dropped_unknown_id, uint64_t{kUnknown});
  EXPECT_EQ(dispatcher_->stats().datagrams_received, uint64_t{kUnknown});
  EXPECT_TRUE(got.empty());

  // The known id still gets through, whole and with its source.
  std::string known = MoshxDatagram(IdFor(1), 7);
  SendToDispatcher(known);
  loop_.Readable(fd_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, known);
  EXPECT_EQ(got[0].from, sender_->local_address());
  EXPECT_EQ(dispatcher_->stats().routed, 1u);
}

TEST_F(DispatcherSocketTest, DatagramsTooShortForAnIdAreDropped) {
  auto path = *dispatcher_->AddAssociation(IdFor(1), std::nullopt);
  int delivered = 0;
  path->set_receive_handler([&](Datagram) { ++delivered; });
  std::string known = MoshxDatagram(IdFor(1), 0);
  SendToDispatcher(known.substr(0, HeaderSize(WireMode::kMoshx) + kTagSize - 1));
  SendToDispatcher("");
  loop_.Readable(fd_);
  EXPECT_EQ(dispatcher_->stats().dropped_short, 2u);
  EXPECT_EQ(delivered, 0);
}

TEST_F(DispatcherSocketTest, ARemovedAssociationsIdBecomesUnknown) {
  auto path = *dispatcher_->AddAssociation(IdFor(1), std::nullopt);
  EXPECT_EQ(dispatcher_->AddAssociation(IdFor(1), std::nullopt).status().code(),
            absl::StatusCode::kAlreadyExists);
  path.reset();
  EXPECT_EQ(dispatcher_->association_count(), 0u);
  SendToDispatcher(MoshxDatagram(IdFor(1), 0));
  loop_.Readable(fd_);
  EXPECT_EQ(dispatcher_->stats().dropped_unknown_id, 1u);
  // The id can be used again.
  EXPECT_TRUE(dispatcher_->AddAssociation(IdFor(1), std::nullopt).ok());
}

TEST_F(DispatcherSocketTest, AssociationSendsFromTheSharedSocketToItsPeer) {
  auto a = *dispatcher_->AddAssociation(IdFor(1), std::nullopt);
  auto b = *dispatcher_->AddAssociation(IdFor(2), sender_->local_address());
  EXPECT_EQ(a->Send("x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a->mtu(), kMtuIpv4);
  ASSERT_TRUE(b->Send("from b").ok());
  absl::StatusOr<Datagram> d = sender_->ReceiveFrom();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->payload, "from b");
  EXPECT_EQ(d->from, dispatcher_->local_address());
  EXPECT_EQ(a->local_address(), dispatcher_->local_address());
}

TEST(DispatcherMoshModeTest, OneAssociationPerSocketGetsEverything) {
  SimulatedNetwork net(4);
  auto* server_host = net.AddHost("10.0.0.2");
  auto* client_host = net.AddHost("10.0.0.1");
  auto dispatcher = *Dispatcher::Create(&net, *server_host->Bind(kServerPort), WireMode::kMosh);
  auto client_socket = *client_host->Bind(5000);
  // Before any association: counted, not delivered.
  ASSERT_TRUE(client_socket->SendTo(dispatcher->local_address(), "early").ok());
  net.RunFor(absl::Milliseconds(20));
  EXPECT_EQ(dispatcher->stats().dropped_no_association, 1u);

  auto path = *dispatcher->AddAssociation(0, std::nullopt);
  EXPECT_EQ(dispatcher->AddAssociation(1, std::nullopt).status().code(),
            absl::StatusCode::kAlreadyExists);
  std::vector<std::string> got;
  path->set_receive_handler([&](Datagram d) { got.push_back(d.payload); });
  // No id on the wire in mosh mode: any bytes, even short ones, go to it.
  ASSERT_TRUE(client_socket->SendTo(dispatcher->local_address(), "a").ok());
  ASSERT_TRUE(client_socket->SendTo(dispatcher->local_address(), "bc").ok());
  net.RunFor(absl::Milliseconds(20));
  EXPECT_EQ(got, (std::vector<std::string>{"a", "bc"}));
  path.reset();
}

TEST(DispatcherCreateTest, NeedsASocket) {
  SimulatedNetwork net(1);
  EXPECT_EQ(Dispatcher::Create(&net, nullptr, WireMode::kMoshx).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moshx::net
