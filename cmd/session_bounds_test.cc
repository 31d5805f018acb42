// What a client can make the server hold for the pty (docs/security.md §5):
// an application that never reads its input gets at most
// ServerSession::kMaxPendingPtyInput bytes queued, the rest is dropped and
// counted; and the client's flow control keeps a large paste to
// ClientSession::kMaxUnacknowledgedInput unacknowledged keystrokes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "cmd/client/client_session.h"
#include "cmd/server/server_session.h"
#include "cmd/sys/pty.h"
#include "cmd/testing/real_fd_loop.h"
#include "gtest/gtest.h"
#include "net/testing/simulated_network.h"

namespace moshx::cmd {
namespace {

using net::testing::LinkParams;
using net::testing::SimulatedNetwork;

constexpr uint16_t kPort = 60001;

net::SessionKey Key() {
  std::array<uint8_t, 16> bytes;
  bytes.fill(5);
  return net::SessionKey(bytes);
}

class ServerSessionBoundsTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> argv) {
    client_host_ = net_.AddHost("10.0.0.1");
    server_host_ = net_.AddHost("10.0.0.2");
    LinkParams link;
    link.delay = absl::Milliseconds(5);
    net_.SetLinks(client_host_, server_host_, link);
    ServerSessionOptions so;
    so.connection_id = 9;
    server_ = *ServerSession::Create(
        {&loop_, &net_, *server_host_->Bind(kPort), nullptr, absl::BitGenRef(server_rng_)}, Key(),
        so, [argv](sys::WindowSize size) {
          sys::PtyOptions po;
          po.argv = argv;
          po.size = size;
          return sys::Pty::Spawn(po);
        });
    ClientSessionOptions co;
    co.connection_id = 9;
    co.server = server_host_->ip().WithPort(kPort);
    client_ = *ClientSession::Create(
        {&loop_, &net_, *client_host_->Open(net::AddressFamily::kIPv4), nullptr,
         absl::BitGenRef(client_rng_)},
        Key(), co, [](const core::Framebuffer&, bool) {});
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    return loop_.RunUntil(done, limit, [this] {
      server_->Service();
      client_->Service();
    });
  }

  // Pastes `total` bytes in 16 KiB reads, each only while the client
  // accepts input (as the terminal loop reads the terminal), until all is
  // pasted and `settled`.
  void Paste(size_t total, absl::Duration limit, const std::function<bool()>& settled) {
    const std::string chunk(16 * 1024, 'x');
    size_t pasted = 0;
    RunUntil(
        [&] {
          if (client_->AcceptsInput() && pasted < total) {
            client_->HandleInput(chunk);
            pasted += chunk.size();
          }
          max_unacknowledged_ =
              std::max(max_unacknowledged_, client_->transport().local_state().held_events());
          max_pending_ = std::max(max_pending_, server_->pending_pty_input_bytes());
          return pasted >= total && settled();
        },
        limit);
    pasted_ = pasted;
  }

  SimulatedNetwork net_{/*seed=*/21};
  testing::RealFdLoop loop_{&net_};
  std::mt19937_64 client_rng_{3}, server_rng_{4};
  SimulatedNetwork::Host* client_host_ = nullptr;
  SimulatedNetwork::Host* server_host_ = nullptr;
  std::unique_ptr<ServerSession> server_;
  std::unique_ptr<ClientSession> client_;
  size_t max_unacknowledged_ = 0;
  size_t max_pending_ = 0;
  size_t pasted_ = 0;
};

TEST_F(ServerSessionBoundsTest, InputForAnApplicationThatNeverReadsIsCappedAndCounted) {
  // Raw mode, so the pty stops taking input once its buffer is full.
  Start({"/bin/sh", "-c", "stty raw -echo; exec sleep 600"});
  const size_t total = size_t{3} << 20;
  Paste(total, absl::Seconds(120), [&] {
    return server_->pty_input_dropped_bytes() + server_->pending_pty_input_bytes() >=
           total - 64 * 1024;
  });
  ASSERT_EQ(pasted_, total);
  EXPECT_LE(max_pending_, ServerSession::kMaxPendingPtyInput);
  EXPECT_EQ(server_->pending_pty_input_bytes(), ServerSession::kMaxPendingPtyInput);
  // Everything beyond the queue and the pty's own small buffer was dropped.
  EXPECT_GE(server_->pty_input_dropped_bytes(),
            pasted_ - ServerSession::kMaxPendingPtyInput - 64 * 1024);
  // The paste never ran more than one read ahead of the acknowledgments.
  EXPECT_LE(max_unacknowledged_, ClientSession::kMaxUnacknowledgedInput + 16 * 1024);
}

TEST_F(ServerSessionBoundsTest, AnApplicationThatReadsGetsTheWholePaste) {
  Start({"/bin/sh", "-c", "stty raw -echo; exec cat >/dev/null"});
  Paste(size_t{768} << 10, absl::Seconds(120), [] { return true; });  // three windows
  ASSERT_EQ(pasted_, size_t{768} << 10);
  ASSERT_TRUE(RunUntil([&] { return server_->pending_pty_input_bytes() == 0; },
                       absl::Seconds(30)));
  EXPECT_EQ(server_->pty_input_dropped_bytes(), 0u);
  EXPECT_LE(max_unacknowledged_, ClientSession::kMaxUnacknowledgedInput + 16 * 1024);
}

TEST_F(ServerSessionBoundsTest, AHostileLinkScreenReachesTheClientAndTheDisplayKeepsUpdating) {
  // 1900 cells under their own 4000-byte URIs (7.6 MB of links that do not
  // compress well) then a marker: without the screen budget the update
  // exceeds what the client takes, and the client's screen freezes before
  // the marker.
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/hostile_links";
  {
    std::string out;
    uint64_t noise = 88172645463325252u;  // xorshift: URIs that do not compress
    for (int i = 0; i < 1900; ++i) {
      std::string uri = "https://example.com/" + std::to_string(100000 + i) + "/";
      while (uri.size() < 4000) {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        uri += "abcdefghijklmnopqrstuvwxyz0123456789"[noise % 36];
      }
      out += "\x1b]8;;" + uri + "\x1b\\L\x1b]8;;\x1b\\";
    }
    out += "\r\nEND-OF-LINKS";
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fwrite(out.data(), 1, out.size(), f);
    fclose(f);
  }
  Start({"/bin/sh", "-c",
         "stty -echo; read go; cat " + path + "; read line; echo; echo AFTER-$line; exec sleep 600"});
  auto shows = [&](const std::string& text) {
    const core::Framebuffer& fb = client_->server_framebuffer();
    for (int y = 0; y < fb.height(); ++y) {
      std::string row;
      for (int x = 0; x < fb.width(); ++x) row += fb.cell(y, x).text;
      if (row.find(text) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(RunUntil([&] { return client_->connected(); }, absl::Seconds(30)));
  // The screen is drawn while the server's datagrams are lost: the update
  // that finally reaches the client is the whole screen, from the last state
  // it acknowledged.
  LinkParams lossy;
  lossy.delay = absl::Milliseconds(5);
  lossy.loss = 1.0;
  net_.SetLink(server_host_, client_host_, lossy);
  client_->HandleInput("go\r");
  RunUntil([] { return false; }, absl::Seconds(5));
  LinkParams clear;
  clear.delay = absl::Milliseconds(5);
  net_.SetLink(server_host_, client_host_, clear);
  ASSERT_TRUE(RunUntil([&] { return shows("END-OF-LINKS"); }, absl::Seconds(30)));
  EXPECT_EQ(client_->transport().stats().fragment_drops, 0u);
  client_->HandleInput("ok\r");
  EXPECT_TRUE(RunUntil([&] { return shows("AFTER-ok"); }, absl::Seconds(30)));
}

}  // namespace
}  // namespace moshx::cmd
