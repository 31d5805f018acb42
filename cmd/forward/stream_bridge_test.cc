#include "cmd/forward/stream_bridge.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>

#include "cmd/testing/real_fd_loop.h"
#include "gtest/gtest.h"
#include "net/stream/testing/sim_link.h"
#include "net/testing/simulated_network.h"

namespace moshx::cmd::forward {
namespace {

using net::stream::StreamId;

std::pair<int, int> NonblockingPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  for (int fd : fds) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return {fds[0], fds[1]};
}

class StreamBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::testing::LinkParams p;
    p.delay = absl::Milliseconds(5);
    p.rate_bits_per_second = 100e6;
    p.queue_bytes = 500 * 1000;
    p.loss = 0.02;
    link_ = std::make_unique<net::stream::testing::SimLink>(&net_, p);
    auto [app_a, bridge_a] = NonblockingPair();
    auto [bridge_b, app_b] = NonblockingPair();
    app_a_.reset(app_a);
    app_b_.reset(app_b);
    server_fd_ = sys::ScopedFd(bridge_b);
    link_->server->set_incoming_handler([this](StreamId id) {
      server_bridge_ = std::make_unique<StreamBridge>(&loop_, link_->server.get(), id,
                                                      std::move(server_fd_),
                                                      [this] { server_done_ = true; });
      server_bridge_->Start();
    });
    StreamId id = *link_->client->Open();
    client_bridge_ = std::make_unique<StreamBridge>(&loop_, link_->client.get(), id,
                                                    sys::ScopedFd(bridge_a),
                                                    [this] { client_done_ = true; });
    client_bridge_->Start();
  }

  // Moves bytes between the test's ends of the socket pairs.
  void Pump() {
    while (sent_ < to_send_.size()) {
      ssize_t n = write(app_a_.get(), to_send_.data() + sent_, to_send_.size() - sent_);
      if (n <= 0) break;
      sent_ += static_cast<size_t>(n);
    }
    if (sent_ == to_send_.size() && !a_shut_) {
      shutdown(app_a_.get(), SHUT_WR);
      a_shut_ = true;
    }
    char buffer[65536];
    if (!b_paused_) {
      for (ssize_t n; (n = read(app_b_.get(), buffer, sizeof buffer)) != 0;) {
        if (n < 0) break;
        at_b_.append(buffer, static_cast<size_t>(n));
      }
    }
    for (ssize_t n; (n = read(app_a_.get(), buffer, sizeof buffer)) != 0;) {
      if (n < 0) break;
      at_a_.append(buffer, static_cast<size_t>(n));
    }
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    return loop_.RunUntil(done, limit, [this] { Pump(); });
  }

  net::testing::SimulatedNetwork net_{/*seed=*/9};
  testing::RealFdLoop loop_{&net_};
  std::unique_ptr<net::stream::testing::SimLink> link_;
  sys::ScopedFd app_a_, app_b_, server_fd_;
  std::unique_ptr<StreamBridge> client_bridge_, server_bridge_;
  bool client_done_ = false, server_done_ = false;
  std::string to_send_, at_b_, at_a_;
  size_t sent_ = 0;
  bool a_shut_ = false, b_paused_ = false;
};

TEST_F(StreamBridgeTest, CarriesBytesBothWaysWithHalfClose) {
  std::mt19937 rng(1);
  to_send_.resize(3 * 1000 * 1000);
  for (char& c : to_send_) c = static_cast<char>(rng());
  // A sends everything and shuts down its write side; B gets all of it and
  // EOF, then answers and closes.
  ASSERT_TRUE(RunUntil([&] { return at_b_.size() == to_send_.size(); }, absl::Seconds(60)))
      << at_b_.size();
  EXPECT_EQ(at_b_, to_send_);
  ASSERT_TRUE(RunUntil([&] {
    char c;
    return read(app_b_.get(), &c, 1) == 0;  // EOF: A's shutdown crossed the stream
  }, absl::Seconds(10)));
  ASSERT_EQ(write(app_b_.get(), "thanks", 6), 6);
  shutdown(app_b_.get(), SHUT_WR);
  ASSERT_TRUE(RunUntil([&] { return client_done_ && server_done_; }, absl::Seconds(10)));
  EXPECT_EQ(at_a_, "thanks");
  EXPECT_EQ(client_bridge_->bytes_to_stream(), to_send_.size());
  EXPECT_EQ(server_bridge_->bytes_to_socket(), to_send_.size());
}

TEST_F(StreamBridgeTest, HoldsBackWhenTheFarReaderStalls) {
  to_send_.assign(20 * 1000 * 1000, 'x');
  b_paused_ = true;
  RunUntil([] { return false; }, absl::Seconds(3));
  // Bounded: the far socket's buffer, one bridge chunk, the stream window,
  // the send buffer, and this side's socket buffer — not the 20 MB.
  net::stream::MuxConfig defaults;
  EXPECT_LT(client_bridge_->bytes_to_stream(),
            defaults.stream_window + defaults.send_buffer + 2 * StreamBridge::kChunk + 4000000);
  EXPECT_LT(sent_, to_send_.size() / 2);
  b_paused_ = false;
  ASSERT_TRUE(RunUntil([&] { return at_b_.size() == to_send_.size(); }, absl::Seconds(60)));
}

TEST_F(StreamBridgeTest, AClosedSocketResetsTheStreamAndClosesTheOtherEnd) {
  to_send_.assign(100 * 1000, 'y');
  ASSERT_TRUE(RunUntil([&] { return at_b_.size() > 1000; }, absl::Seconds(10)));
  app_b_.reset();  // B goes away with unread data
  ASSERT_TRUE(RunUntil([&] { return client_done_ && server_done_; }, absl::Seconds(10)));
  char c;
  EXPECT_LE(read(app_a_.get(), &c, 1), 0);  // A's socket was closed: EOF or reset
  EXPECT_EQ(link_->client->open_streams(), 0u);
}

}  // namespace
}  // namespace moshx::cmd::forward
