// ClientSession alone on the simulated network: what the user sees while no
// server answers, and how it gives up.
#include "cmd/client/client_session.h"

#include <random>

#include "gtest/gtest.h"
#include "net/testing/simulated_network.h"

namespace moshx::cmd {
namespace {

using net::testing::SimulatedNetwork;

TEST(ClientSessionTest, NoServerShowsConnectingThenNothingReceivedThenGivesUp) {
  SimulatedNetwork net(/*seed=*/1);
  auto* client_host = net.AddHost("10.0.0.1");
  auto* server_host = net.AddHost("10.0.0.2");  // nothing listens there
  std::mt19937_64 rng(1);
  ClientSessionOptions options;
  options.server = server_host->ip().WithPort(60001);
  int frames = 0;
  auto session = ClientSession::Create(
      {&net, &net, *client_host->Open(net::AddressFamily::kIPv4), client_host,
       absl::BitGenRef(rng)},
      net::SessionKey({}), options, [&](const core::Framebuffer&, bool) { ++frames; });
  ASSERT_TRUE(session.ok()) << session.status();
  ClientSession& s = **session;
  auto run_until = [&](absl::Duration t) {
    while (net.Now().since_epoch() < t && !s.done()) {
      // The simulated network's RunOnce cannot fail.
      net.RunOnce(std::min(s.WaitTime(), t - net.Now().since_epoch())).IgnoreError();
      s.Service();
    }
  };
  auto bar = [&] { return s.notification_bar().Line(net.Now().since_epoch()); };
  run_until(absl::Milliseconds(20));
  EXPECT_EQ(bar(), "");  // no flash on fast links
  run_until(absl::Milliseconds(100));
  EXPECT_EQ(bar(), "mosh: Connecting... [To quit: Ctrl-^ .]");
  run_until(absl::Milliseconds(300));
  EXPECT_EQ(bar(), "mosh: Nothing received from server on UDP port 60001. [To quit: Ctrl-^ .]");
  EXPECT_GT(frames, 0);
  run_until(absl::Seconds(16));
  EXPECT_EQ(s.notification_bar().message(), "Timed out waiting for server...");
  run_until(absl::Seconds(40));
  EXPECT_TRUE(s.done());
  EXPECT_FALSE(s.connected());
  EXPECT_FALSE(s.clean());
}

}  // namespace
}  // namespace moshx::cmd
