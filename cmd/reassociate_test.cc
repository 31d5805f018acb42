// ServerSession::Reassociate (an attach, issue 13, docs/protocol.md §9.1):
// whole sessions in one process — a real shell on a real pty, clients on the
// simulated network in virtual time — where a second client takes the
// session over with a fresh key and connection id.
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/client/client_session.h"
#include "cmd/server/server_session.h"
#include "cmd/testing/real_fd_loop.h"
#include "gtest/gtest.h"
#include "net/testing/simulated_network.h"

namespace moshx::cmd {
namespace {

using net::testing::LinkParams;
using net::testing::SimulatedNetwork;

constexpr uint16_t kPort = 60001;
constexpr uint64_t kFirstId = 0x1234;
constexpr absl::Duration kOneWay = absl::Milliseconds(50);

net::SessionKey KeyNumber(int n) {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(0x10 * n + i);
  return net::SessionKey(b);
}

std::string ScreenText(const core::Framebuffer& fb) {
  std::string out;
  for (int y = 0; y < fb.height(); ++y) {
    for (int x = 0; x < fb.width(); ++x) {
      const core::Cell& c = fb.cell(y, x);
      if (!c.is_continuation()) out += c.is_blank() ? " " : c.text;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

int Occurrences(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// One client of the session, on a host of its own.
struct Client {
  SimulatedNetwork::Host* host = nullptr;
  std::mt19937_64 rng;
  std::unique_ptr<ClientSession> session;
  net::Address address;  // where its datagrams come from
  // The server screens it drew, from its first state on.
  std::vector<core::Framebuffer> frames;
  net::MonoTime started;
  net::MonoTime first_frame;

  bool Shows(const std::string& text) const {
    return absl::StrContains(ScreenText(session->server_framebuffer()), text);
  }
};

class AttachHarness {
 public:
  // `loss` on every link; the server runs /bin/sh in `mode`.
  AttachHarness(uint64_t seed, double loss, net::WireMode mode = net::WireMode::kMoshx,
                absl::Duration one_way = kOneWay)
      : net_(seed), loop_(&net_), server_rng_(seed), loss_(loss), mode_(mode), one_way_(one_way) {
    server_host_ = net_.AddHost("10.0.0.2");
    ServerSessionOptions so;
    so.mode = mode;
    so.connection_id = kFirstId;
    net::TransportDeps deps{&loop_, &net_, *server_host_->Bind(kPort), nullptr,
                            absl::BitGenRef(server_rng_)};
    server_ = *ServerSession::Create(std::move(deps), KeyNumber(1), so,
                                     [](sys::WindowSize size) {
                                       sys::PtyOptions po;
                                       po.argv = {"/bin/sh"};
                                       po.size = size;
                                       po.extra_env = {"PS1=$ ", "ENV="};
                                       return sys::Pty::Spawn(po);
                                     });
  }

  // A client at `ip` with the given association.
  Client* AddClient(const std::string& ip, const net::SessionKey& key, uint64_t id,
                    int width = 80, int height = 24) {
    auto c = std::make_unique<Client>();
    Client* client = c.get();
    client->host = net_.AddHost(ip);
    client->rng.seed(clients_.size() + 100);
    LinkParams link;
    link.delay = one_way_;
    link.loss = loss_;
    net_.SetLinks(client->host, server_host_, link);
    auto socket = *client->host->Open(net::AddressFamily::kIPv4);
    client->address = socket->local_address();
    net::TransportDeps deps{&loop_, &net_, std::move(socket), client->host,
                            absl::BitGenRef(client->rng)};
    ClientSessionOptions co;
    co.mode = mode_;
    co.connection_id = id;
    co.server = server_host_->ip().WithPort(kPort);
    co.width = width;
    co.height = height;
    client->started = net_.Now();
    client->session = *ClientSession::Create(
        std::move(deps), key, co, [this, client](const core::Framebuffer&, bool) {
          if (!client->session->connected()) return;
          if (client->frames.empty()) client->first_frame = net_.Now();
          client->frames.push_back(client->session->server_framebuffer());
        });
    clients_.push_back(std::move(c));
    return client;
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    return loop_.RunUntil(done, limit, [this] {
      server_->Service();
      for (auto& c : clients_) {
        if (c->session != nullptr && !c->session->done()) c->session->Service();
      }
    });
  }

  const core::Framebuffer& ServerScreen() const {
    return server_->transport().local_state().framebuffer();
  }

  // The client sees exactly the server's screen.
  bool Converged(const Client* c) const {
    return c->session->server_framebuffer() == ServerScreen();
  }

  SimulatedNetwork net_;
  testing::RealFdLoop loop_;
  std::mt19937_64 server_rng_;
  const double loss_;
  const net::WireMode mode_;
  const absl::Duration one_way_;
  SimulatedNetwork::Host* server_host_ = nullptr;
  std::unique_ptr<ServerSession> server_;
  std::vector<std::unique_ptr<Client>> clients_;
};

// Runs a command on `c` and waits until its output shows there.
void RunCommand(AttachHarness& h, Client* c, const std::string& command,
                const std::string& output) {
  c->session->HandleInput(command + "\r");
  ASSERT_TRUE(h.RunUntil([&] { return c->Shows(output); }, absl::Seconds(60)))
      << "no '" << output << "'; client screen:\n" << ScreenText(c->session->server_framebuffer());
}

TEST(ReassociateTest, NewClientGetsTheWholeScreenFirstAndTheOldOneIsToldAndLeaves) {
  AttachHarness h(/*seed=*/1, 0.0);
  Client* a = h.AddClient("10.0.0.1", KeyNumber(1), kFirstId);
  ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
  // A title, a mode and some output: all of it is the session's state.
  RunCommand(h, a, "printf '\\033]0;the-title\\007\\033[?1h'; echo marker-$((6*7))", "marker-42\n");
  ASSERT_TRUE(h.RunUntil([&] { return h.Converged(a); }, absl::Seconds(30)));
  const core::Framebuffer before = h.ServerScreen();
  ASSERT_EQ(before.title(), "the-title");
  ASSERT_TRUE(before.modes().application_cursor_keys);

  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x5678).ok());
  Client* b = h.AddClient("10.0.0.3", KeyNumber(2), 0x5678);
  ASSERT_TRUE(h.RunUntil([&] { return !b->frames.empty(); }, absl::Seconds(10)));
  // The very first state B draws is the whole screen: text, cursor, modes,
  // title; nothing relative to what A had acknowledged.
  EXPECT_TRUE(b->frames.front() == before) << ScreenText(b->frames.front());
  EXPECT_EQ(b->frames.front().title(), "the-title");
  EXPECT_EQ(b->frames.front().cursor(), before.cursor());
  const absl::Duration first = b->first_frame - b->started;
  std::printf("attach -> whole screen on the new client: %s (one-way delay %s)\n",
              absl::FormatDuration(first).c_str(), absl::FormatDuration(kOneWay).c_str());
  EXPECT_LE(first, 2 * kOneWay + absl::Milliseconds(20));

  // A is told, with B's address, and ends cleanly.
  ASSERT_TRUE(h.RunUntil([&] { return a->session->done(); }, absl::Seconds(30)));
  EXPECT_EQ(a->session->superseded_message(),
            absl::StrCat("session attached from ", b->address.ToString()));
  EXPECT_TRUE(a->session->clean());
  ASSERT_TRUE(h.RunUntil([&] { return h.server_->revoked_associations() == 0; },
                         absl::Seconds(30)));
  EXPECT_EQ(h.server_->attach_stats().reassociations, 1u);
  EXPECT_EQ(h.server_->attach_stats().associations_retired, 1u);

  // B drives the session: typing reaches the same shell.
  RunCommand(h, b, "echo second-$((7*6))", "second-42\n");
  EXPECT_TRUE(b->Shows("marker-42"));
  EXPECT_FALSE(h.server_->done());
}

TEST(ReassociateTest, OldClientsInputAfterTheAttachAndItsReplayedDatagramsChangeNothing) {
  AttachHarness h(/*seed=*/2, 0.0);
  Client* a = h.AddClient("10.0.0.1", KeyNumber(1), kFirstId);
  std::vector<std::string> captured;  // everything A sent the server
  h.net_.set_tap([&](net::MonoTime, const net::Address& from, const net::Address&,
                     absl::string_view payload) {
    if (from == a->address) captured.emplace_back(payload);
  });
  ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
  RunCommand(h, a, "echo typed-$((1+1))", "typed-2\n");

  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x5678).ok());
  // Typed by A after the attach, before it knows: revoked, never run.
  a->session->HandleInput("echo ignored-$((3*3))\r");
  h.RunUntil([] { return false; }, absl::Milliseconds(500));
  EXPECT_GT(h.server_->attach_stats().revoked_states_ignored, 0u);
  Client* b = h.AddClient("10.0.0.3", KeyNumber(2), 0x5678);
  ASSERT_TRUE(h.RunUntil([&] { return a->session->done() && h.Converged(b); },
                         absl::Seconds(30)));
  ASSERT_TRUE(h.RunUntil([&] { return h.server_->revoked_associations() == 0; },
                         absl::Seconds(30)));
  EXPECT_FALSE(b->Shows("ignored-9"));
  EXPECT_EQ(Occurrences(ScreenText(h.ServerScreen()), "typed-2\n"), 1);

  // Every datagram A ever sent, replayed to the server: counted drops.
  const core::Framebuffer screen = h.ServerScreen();
  const uint64_t drops = h.server_->dispatcher_stats()->dropped_unknown_id;
  const uint64_t b_states = h.server_->transport().stats().instructions_received;
  ASSERT_GT(captured.size(), 5u);
  for (const std::string& d : captured) {
    h.net_.Inject(a->address, h.server_host_->ip().WithPort(kPort), d);
  }
  h.RunUntil([] { return false; }, absl::Seconds(2));
  EXPECT_EQ(h.server_->dispatcher_stats()->dropped_unknown_id - drops, captured.size());
  EXPECT_TRUE(h.ServerScreen() == screen) << ScreenText(h.ServerScreen());
  EXPECT_EQ(Occurrences(ScreenText(h.ServerScreen()), "typed-2\n"), 1);
  EXPECT_FALSE(absl::StrContains(ScreenText(h.ServerScreen()), "ignored-9"));
  // B's association never saw them either (its own heartbeats aside).
  EXPECT_EQ(h.server_->transport().stats().fragment_drops, 0u);
  EXPECT_GE(h.server_->transport().stats().instructions_received, b_states);
  RunCommand(h, b, "echo still-$((2*3))", "still-6\n");
}

// The old client died without a word (kill -9): the new one attaches all the
// same, and the revoked association goes once its shutdown times out.
TEST(ReassociateTest, DeadOldClientIsRetiredAfterItsShutdownTimesOut) {
  AttachHarness h(/*seed=*/3, 0.0);
  Client* a = h.AddClient("10.0.0.1", KeyNumber(1), kFirstId);
  ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
  RunCommand(h, a, "echo before-$((5*5))", "before-25\n");
  a->session.reset();  // gone, no shutdown
  h.RunUntil([] { return false; }, absl::Seconds(1));
  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x5678).ok());
  Client* b = h.AddClient("10.0.0.3", KeyNumber(2), 0x5678);
  ASSERT_TRUE(h.RunUntil([&] { return h.Converged(b) && b->Shows("before-25"); },
                         absl::Seconds(10)));
  ASSERT_TRUE(h.RunUntil([&] { return h.server_->revoked_associations() == 0; },
                         absl::Seconds(60)));
  EXPECT_EQ(h.server_->attach_stats().associations_retired, 1u);
  RunCommand(h, b, "echo after-$((4*4))", "after-16\n");
}

// Attached in turn, A -> B -> C: each earlier client is told who took over.
TEST(ReassociateTest, ClientsAttachedInTurnAreEachToldOnceAtLoss) {
  AttachHarness h(/*seed=*/4, 0.2);
  Client* a = h.AddClient("10.0.0.1", KeyNumber(1), kFirstId);
  ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x2222).ok());
  Client* b = h.AddClient("10.0.0.3", KeyNumber(2), 0x2222);
  ASSERT_TRUE(h.RunUntil([&] { return a->session->done() && h.Converged(b); },
                         absl::Seconds(60)));
  RunCommand(h, b, "echo from-b-$((2+2))", "from-b-4\n");
  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(3), 0x3333).ok());
  Client* c = h.AddClient("10.0.0.4", KeyNumber(3), 0x3333, 100, 30);
  ASSERT_TRUE(h.RunUntil([&] { return b->session->done() && h.Converged(c); },
                         absl::Seconds(60)));
  // At loss the new client's first datagram may come after
  // kSupersedeAddressWait: then the old one is told without the address.
  for (const auto& [told, by] : {std::make_pair(a, b), std::make_pair(b, c)}) {
    const std::string& m = told->session->superseded_message();
    EXPECT_TRUE(m == absl::StrCat("session attached from ", by->address.ToString()) ||
                m == "session attached from another client")
        << m;
    EXPECT_TRUE(told->session->clean());
  }
  // C's window size reached the shell.
  RunCommand(h, c, "stty size", "30 100\n");
  EXPECT_TRUE(c->Shows("from-b-4"));
  EXPECT_EQ(h.server_->attach_stats().reassociations, 2u);
}

// A session attached before any client came: the shell starts with the new
// client, at its size.
TEST(ReassociateTest, AttachBeforeAnyClientStartsTheShellForTheNewOne) {
  AttachHarness h(/*seed=*/5, 0.0);
  h.RunUntil([] { return false; }, absl::Seconds(1));
  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x5678).ok());
  EXPECT_EQ(h.server_->pty(), nullptr);
  Client* b = h.AddClient("10.0.0.3", KeyNumber(2), 0x5678, 90, 20);
  ASSERT_TRUE(h.RunUntil([&] { return b->Shows("$\n"); }, absl::Seconds(60)));
  RunCommand(h, b, "stty size", "20 90\n");
  ASSERT_TRUE(h.RunUntil([&] { return h.server_->revoked_associations() == 0; },
                         absl::Seconds(5)));
}

TEST(ReassociateTest, RefusesReusedKeysAndIdsAndTheOldAssociationGoesOn) {
  AttachHarness h(/*seed=*/6, 0.0);
  Client* a = h.AddClient("10.0.0.1", KeyNumber(1), kFirstId);
  ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
  absl::Status same_key = h.server_->Reassociate(KeyNumber(1), 0x5678);
  EXPECT_EQ(same_key.code(), absl::StatusCode::kInvalidArgument) << same_key;
  absl::Status same_id = h.server_->Reassociate(KeyNumber(2), kFirstId);
  EXPECT_EQ(same_id.code(), absl::StatusCode::kAlreadyExists) << same_id;
  EXPECT_EQ(h.server_->attach_stats().reassociations, 0u);
  RunCommand(h, a, "echo alive-$((3+4))", "alive-7\n");
  // A key that served an earlier association is never taken again.
  ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x5678).ok());
  EXPECT_EQ(h.server_->Reassociate(KeyNumber(1), 0x9999).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ReassociateTest, MoshModeSessionsCannotBeAttached) {
  AttachHarness h(/*seed=*/7, 0.0, net::WireMode::kMosh);
  Client* a = h.AddClient("10.0.0.1", KeyNumber(1), 0);
  ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
  absl::Status s = h.server_->Reassociate(KeyNumber(2), 0x5678);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(h.server_->dispatcher_stats(), nullptr);
  RunCommand(h, a, "echo mosh-$((8*8))", "mosh-64\n");
  EXPECT_TRUE(a->session->superseded_message().empty());
}

// Issue 13's goal: from the attach reply (the new client starts) to the
// whole screen drawn on it within one round trip + 20 ms, at 20 and 200 ms
// RTT, with a full screen of text. Virtual time: the link's delays and the
// transports' timers, not CPU time.
TEST(ReassociateTest, WholeScreenWithinOneRoundTripAt20And200MsRtt) {
  for (absl::Duration rtt : {absl::Milliseconds(20), absl::Milliseconds(200)}) {
    AttachHarness h(/*seed=*/8, 0.0, net::WireMode::kMoshx, rtt / 2);
    Client* a = h.AddClient("10.0.0.1", KeyNumber(1), kFirstId);
    ASSERT_TRUE(h.RunUntil([&] { return a->Shows("$\n"); }, absl::Seconds(60)));
    RunCommand(h, a, "seq -w 1000 1099 | paste -d' ' - - - - - - - - - -; echo end-$((9*9))",
               "end-81\n");
    ASSERT_TRUE(h.RunUntil([&] { return h.Converged(a); }, absl::Seconds(30)));
    const core::Framebuffer before = h.ServerScreen();
    ASSERT_TRUE(h.server_->Reassociate(KeyNumber(2), 0x5678).ok());
    Client* b = h.AddClient("10.0.0.3", KeyNumber(2), 0x5678);
    ASSERT_TRUE(h.RunUntil([&] { return !b->frames.empty(); }, absl::Seconds(10)));
    EXPECT_TRUE(b->frames.front() == before) << ScreenText(b->frames.front());
    const absl::Duration took = b->first_frame - b->started;
    std::printf("RTT %s: attach reply -> whole screen drawn in %s (goal %s)\n",
                absl::FormatDuration(rtt).c_str(), absl::FormatDuration(took).c_str(),
                absl::FormatDuration(rtt + absl::Milliseconds(20)).c_str());
    EXPECT_LE(took, rtt + absl::Milliseconds(20));
  }
}

}  // namespace
}  // namespace moshx::cmd
