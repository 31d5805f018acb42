#include "cmd/forward/forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cmd/forward/server_forwarding.h"
#include "cmd/forward/sockets.h"
#include "cmd/forward/socks5.h"
#include "cmd/testing/real_fd_loop.h"
#include "core/protocol/forward_protocol.h"
#include "gtest/gtest.h"
#include "net/stream/testing/sim_link.h"

namespace moshx::cmd::forward {

using protocol::EncodeOpenReply;
using protocol::EncodeOpenRequest;
using protocol::kMaxMessageSize;
using protocol::OpenKind;
using protocol::OpenRequest;
using protocol::OpenStatus;
using protocol::OpenStatusName;
using protocol::ParseOpenReply;
using protocol::ParseOpenRequest;
using protocol::TakeMessage;
namespace {

// A TCP or unix echo server on the test's loop (answers `fixed` instead of
// echoing when set).
class EchoServer {
 public:
  EchoServer(net::EventLoop* loop, sys::ScopedFd listener, std::string fixed = "")
      : loop_(loop), listener_(std::move(listener)), fixed_(std::move(fixed)) {
    EXPECT_TRUE(loop_->WatchFd(listener_.get(), net::EventLoop::kReadable,
                               [this](uint32_t) { OnAccept(); }).ok());
  }
  ~EchoServer() {
    loop_->UnwatchFd(listener_.get());
    for (auto& [fd, c] : conns_) loop_->UnwatchFd(fd);
  }
  int fd() const { return listener_.get(); }

 private:
  struct Conn {
    sys::ScopedFd fd;
    std::string out;
  };
  void OnAccept() {
    for (auto fd = Accept(listener_.get()); fd.ok(); fd = Accept(listener_.get())) {
      int raw = fd->get();
      conns_[raw].fd = std::move(*fd);
      Watch(raw);
    }
  }
  void Watch(int fd) {
    uint32_t events = net::EventLoop::kReadable;
    if (!conns_[fd].out.empty()) events |= net::EventLoop::kWritable;
    EXPECT_TRUE(loop_->WatchFd(fd, events, [this, fd](uint32_t) { OnEvent(fd); }).ok());
  }
  void OnEvent(int fd) {
    Conn& c = conns_[fd];
    if (!c.out.empty()) {
      ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n > 0) c.out.erase(0, static_cast<size_t>(n));
    }
    if (c.out.size() < 256 * 1024) {
      char buffer[65536];
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN)) {
        loop_->UnwatchFd(fd);
        conns_.erase(fd);
        return;
      }
      if (n > 0) c.out += fixed_.empty() ? std::string(buffer, static_cast<size_t>(n)) : fixed_;
    }
    Watch(fd);
  }
  net::EventLoop* loop_;
  sys::ScopedFd listener_;
  std::string fixed_;
  std::map<int, Conn> conns_;
};

uint16_t FreePort() {
  auto fd = ListenTcp("localhost", 0);
  EXPECT_TRUE(fd.ok());
  return LocalPort(fd->get());
}

sys::ScopedFd ConnectTo(uint16_t port) {
  sys::ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << port;
  fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return fd;
}

class ForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::testing::LinkParams p;
    p.delay = absl::Milliseconds(10);
    p.loss = 0.02;
    link_ = std::make_unique<net::stream::testing::SimLink>(&net_, p);
    auto echo_fd = ListenTcp("localhost", 0);
    ASSERT_TRUE(echo_fd.ok());
    echo_port_ = LocalPort(echo_fd->get());
    echo_ = std::make_unique<EchoServer>(&loop_, std::move(*echo_fd));
    char dir[] = "/tmp/moshx-forward-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    unlink((dir_ + "/agent").c_str());
    unlink((dir_ + "/server-agent").c_str());
    rmdir(dir_.c_str());
  }

  void MakeForwarders(std::vector<ForwardSpec> specs, std::string agent = "",
                      ForwarderOptions server = ForwarderOptions{true}) {
    ForwarderOptions c{false, std::move(specs), std::move(agent)};
    client_ = std::make_unique<Forwarder>(&loop_, link_->client.get(), c,
                                          [this](const std::string& l) { log_.push_back(l); });
    server_ = std::make_unique<Forwarder>(&loop_, link_->server.get(), server,
                                          [this](const std::string& l) { log_.push_back(l); });
    link_->client->set_incoming_handler([this](auto id) { client_->OnIncomingStream(id); });
    link_->server->set_incoming_handler([this](auto id) { server_->OnIncomingStream(id); });
    client_->Start();
    // The server learns the client's address from its first datagram (in a
    // session the terminal's frames do this at once).
    ASSERT_TRUE(link_->client_end->SendTerminal("hello").ok());
  }

  // Writes `data` to `fd` and reads until as many bytes came back.
  std::string RoundTrip(int fd, const std::string& data, size_t expect) {
    size_t sent = 0;
    std::string got;
    loop_.RunUntil([&] { return got.size() >= expect; }, absl::Seconds(30), [&] {
      if (sent < data.size()) {
        ssize_t n = write(fd, data.data() + sent, data.size() - sent);
        if (n > 0) sent += static_cast<size_t>(n);
      }
      char buffer[65536];
      for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) {
        got.append(buffer, static_cast<size_t>(n));
      }
    });
    return got;
  }

  std::string Pattern(size_t n) {
    std::mt19937 rng(static_cast<uint32_t>(n));
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  }

  net::testing::SimulatedNetwork net_{/*seed=*/21};
  testing::RealFdLoop loop_{&net_};
  std::unique_ptr<net::stream::testing::SimLink> link_;
  std::unique_ptr<EchoServer> echo_;
  uint16_t echo_port_ = 0;
  std::string dir_;
  std::unique_ptr<Forwarder> client_, server_;
  std::vector<std::string> log_;
};

TEST_F(ForwarderTest, LocalForwardCarriesAConnection) {
  MakeForwarders({{ForwardKind::kLocal, "localhost", 0, "127.0.0.1", echo_port_}});
  uint16_t port = client_->listening_port(0);
  ASSERT_NE(port, 0);
  sys::ScopedFd app = ConnectTo(port);
  std::string data = Pattern(300 * 1000);
  EXPECT_EQ(RoundTrip(app.get(), data, data.size()), data);
  app.reset();
  EXPECT_TRUE(loop_.RunUntil(
      [&] { return client_->connections() == 0 && server_->connections() == 0; },
      absl::Seconds(10)));
  EXPECT_EQ(server_->stats().bridged, 1u);
}

TEST_F(ForwarderTest, DynamicForwardSpeaksSocks5) {
  MakeForwarders({{ForwardKind::kDynamic, "localhost", 0, "", 0}});
  sys::ScopedFd app = ConnectTo(client_->listening_port(0));
  std::string hello = {5, 1, 0};
  std::string request = {5, 1, 0, 1, 127, 0, 0, 1};
  request.push_back(static_cast<char>(echo_port_ >> 8));
  request.push_back(static_cast<char>(echo_port_ & 0xff));
  std::string answer = RoundTrip(app.get(), hello, 2);
  EXPECT_EQ(answer, std::string({5, 0}));
  std::string granted = RoundTrip(app.get(), request, 10);
  ASSERT_EQ(granted.size(), 10u);
  EXPECT_EQ(granted[1], 0) << "SOCKS reply code";
  EXPECT_EQ(RoundTrip(app.get(), "through socks", 13), "through socks");

  // A target nobody listens on comes back as "connection refused".
  sys::ScopedFd refused = ConnectTo(client_->listening_port(0));
  uint16_t dead = FreePort();
  std::string bad = {5, 1, 0, 1, 127, 0, 0, 1, static_cast<char>(dead >> 8),
                     static_cast<char>(dead & 0xff)};
  std::string r = RoundTrip(refused.get(), hello + bad, 12);
  ASSERT_EQ(r.size(), 12u);
  EXPECT_EQ(r[3], static_cast<char>(Socks5Handshake::kConnectionRefused));
}

TEST_F(ForwarderTest, RemoteForwardListensOnTheServer) {
  uint16_t port = FreePort();
  MakeForwarders({{ForwardKind::kRemote, "localhost", port, "127.0.0.1", echo_port_}});
  loop_.RunUntil([] { return false; }, absl::Milliseconds(300));  // the listen request
  sys::ScopedFd app = ConnectTo(port);
  std::string data = Pattern(100 * 1000);
  EXPECT_EQ(RoundTrip(app.get(), data, data.size()), data);
}

TEST_F(ForwarderTest, AgentConnectionsReachTheClientsAgent) {
  auto agent = ListenUnix(dir_ + "/agent");
  ASSERT_TRUE(agent.ok());
  EchoServer fake_agent(&loop_, std::move(*agent), "agent-ok");
  MakeForwarders({}, dir_ + "/agent");
  ASSERT_TRUE(server_->StartAgentListener(dir_ + "/server-agent").ok());
  auto app = ConnectUnix(dir_ + "/server-agent");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(RoundTrip(app->get(), "hi", 8), "agent-ok")
      << "log: " << (log_.empty() ? "" : log_[0]) << " server accepted "
      << server_->stats().accepted << " bridged " << server_->stats().bridged
      << " client bridged " << client_->stats().bridged << " refused "
      << client_->stats().refused << " failed " << client_->stats().failed;
}

TEST_F(ForwarderTest, ABindFailureIsOneLineAndTheRestGoesOn) {
  auto taken = ListenTcp("localhost", 0);
  ASSERT_TRUE(taken.ok());
  uint16_t busy = LocalPort(taken->get());
  MakeForwarders({{ForwardKind::kLocal, "localhost", busy, "127.0.0.1", echo_port_},
                  {ForwardKind::kLocal, "localhost", 0, "127.0.0.1", echo_port_}});
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("Address already in use"), std::string::npos) << log_[0];
  EXPECT_NE(log_[0].find(absl::StrCat("-L localhost:", busy)), std::string::npos) << log_[0];
  sys::ScopedFd app = ConnectTo(client_->listening_port(1));
  EXPECT_EQ(RoundTrip(app.get(), "still works", 11), "still works");
}

TEST_F(ForwarderTest, TheClientRefusesConnectRequestsFromTheServer) {
  MakeForwarders({});
  auto id = link_->server->Open();
  ASSERT_TRUE(id.ok());
  link_->server->Write(*id, EncodeOpenRequest({OpenKind::kConnect, "127.0.0.1", echo_port_, 0}));
  std::string got;
  auto whole = [&] {
    return got.size() >= 2 &&
           got.size() >= 2 + static_cast<size_t>(static_cast<uint8_t>(got[0]) << 8 |
                                                 static_cast<uint8_t>(got[1]));
  };
  loop_.RunUntil(whole, absl::Seconds(5),
                 [&] { got += link_->server->Read(*id, 1000); });
  auto body = TakeMessage(&got);
  ASSERT_TRUE(body.ok() && body->has_value());
  auto reply = ParseOpenReply(**body);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, OpenStatus::kRefused);
  EXPECT_EQ(client_->stats().refused, 1u);
}

TEST_F(ForwarderTest, TheSessionsAgentSocketExistsWhileTheClientOffersItsAgent) {
  auto agent = ListenUnix(dir_ + "/agent");
  ASSERT_TRUE(agent.ok());
  EchoServer fake_agent(&loop_, std::move(*agent), "agent-ok");
  ForwarderOptions server{true};
  server.agent_socket = dir_ + "/server-agent";
  MakeForwarders({}, dir_ + "/agent", server);
  const std::string path = dir_ + "/server-agent";
  ASSERT_TRUE(loop_.RunUntil([&] { return access(path.c_str(), F_OK) == 0; }, absl::Seconds(5)));
  auto app = ConnectUnix(path);
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(RoundTrip(app->get(), "hi", 8), "agent-ok");
  EXPECT_EQ(client_->stats().bridged, 1u);

  // The client goes away: its control stream ends, and so does the socket.
  client_.reset();
  EXPECT_TRUE(loop_.RunUntil([&] { return access(path.c_str(), F_OK) != 0; }, absl::Seconds(5)));
}

TEST_F(ForwarderTest, AServerWithoutAnAgentSocketRefusesMinusA) {
  auto agent = ListenUnix(dir_ + "/agent");
  ASSERT_TRUE(agent.ok());
  MakeForwarders({}, dir_ + "/agent");
  ASSERT_TRUE(loop_.RunUntil([&] { return !log_.empty(); }, absl::Seconds(5)));
  EXPECT_EQ(log_[0], "-A: not offered by this side");
  EXPECT_EQ(server_->stats().refused, 1u);
}

TEST_F(ForwarderTest, TheServerCapsRemoteListenersPerClient) {
  ForwarderOptions server{true};
  server.max_remote_listeners = 2;
  MakeForwarders({{ForwardKind::kRemote, "localhost", FreePort(), "127.0.0.1", echo_port_},
                  {ForwardKind::kRemote, "localhost", FreePort(), "127.0.0.1", echo_port_},
                  {ForwardKind::kRemote, "localhost", FreePort(), "127.0.0.1", echo_port_}},
                 "", server);
  ASSERT_TRUE(loop_.RunUntil([&] { return !log_.empty(); }, absl::Seconds(5)));
  loop_.RunUntil([] { return false; }, absl::Milliseconds(200));
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("at most 2 -R listeners"), std::string::npos) << log_[0];
  EXPECT_EQ(server_->stats().refused, 1u);
}

TEST(AgentSocketDirTest, APrivateDirectoryThatGoesWithIt) {
  char parent[] = "/tmp/moshx-agent-dir-test.XXXXXX";
  ASSERT_NE(mkdtemp(parent), nullptr);
  std::string dir;
  {
    AgentSocketDir agent(parent);
    ASSERT_FALSE(agent.socket_path().empty()) << agent.error();
    EXPECT_EQ(agent.EnvironmentEntry(), "SSH_AUTH_SOCK=" + agent.socket_path());
    dir = agent.socket_path().substr(0, agent.socket_path().rfind('/'));
    struct stat st {};
    ASSERT_EQ(stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto listener = ListenUnix(agent.socket_path());  // a socket left behind
    ASSERT_TRUE(listener.ok());
  }
  EXPECT_NE(access(dir.c_str(), F_OK), 0);
  AgentSocketDir nowhere("/nonexistent-parent");
  EXPECT_EQ(nowhere.socket_path(), "");
  EXPECT_EQ(nowhere.EnvironmentEntry(), "");
  EXPECT_NE(nowhere.error().find("/nonexistent-parent"), std::string::npos) << nowhere.error();
  rmdir(parent);
}

TEST_F(ForwarderTest, ServerForwardingFollowsTheSessionsMux) {
  client_ = std::make_unique<Forwarder>(
      &loop_, link_->client.get(),
      ForwarderOptions{false, {{ForwardKind::kLocal, "localhost", 0, "127.0.0.1", echo_port_}}},
      [this](const std::string& l) { log_.push_back(l); });
  link_->client->set_incoming_handler([this](auto id) { client_->OnIncomingStream(id); });
  client_->Start();
  ASSERT_TRUE(link_->client_end->SendTerminal("hello").ok());
  ServerForwarding serving(&loop_, "", [this](const std::string& l) { log_.push_back(l); });
  serving.Attach(link_->server.get());
  sys::ScopedFd first = ConnectTo(client_->listening_port(0));
  EXPECT_EQ(RoundTrip(first.get(), "one", 3), "one");

  // Detached (the association went away): its connections end.
  serving.Attach(nullptr);
  EXPECT_EQ(serving.forwarder(), nullptr);
  char byte;
  EXPECT_TRUE(loop_.RunUntil([&] { return read(first.get(), &byte, 1) == 0 || errno == ECONNRESET; },
                             absl::Seconds(10)));

  // Attached again (the new association's mux): new connections work.
  serving.Attach(link_->server.get());
  sys::ScopedFd second = ConnectTo(client_->listening_port(0));
  EXPECT_EQ(RoundTrip(second.get(), "two", 3), "two");
}

}  // namespace
}  // namespace moshx::cmd::forward
