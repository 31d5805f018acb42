// End-to-end tests of the udp_relay binary on loopback: a test "client" and
// "server" socket talk through the relay process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::netem {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr char kRelayPath[] = "tools/netem/udp_relay";

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// A nonblocking UDP socket on 127.0.0.1 (ephemeral port).
class Udp {
 public:
  Udp() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a = Addr(0);
    socklen_t len = sizeof(a);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Udp() { close(fd_); }
  uint16_t port() const { return port_; }

  void SendTo(uint16_t port, const std::string& data) {
    sockaddr_in a = Addr(port);
    ASSERT_EQ(sendto(fd_, data.data(), data.size(), 0,
                     reinterpret_cast<sockaddr*>(&a), sizeof(a)),
              static_cast<ssize_t>(data.size()));
  }
  // Waits up to timeout_ms for one datagram.
  bool Recv(std::string* data, uint16_t* from_port, int timeout_ms) {
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[2048];
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr*>(&a), &len);
    if (n < 0) return false;
    data->assign(buf, n);
    if (from_port != nullptr) *from_port = ntohs(a.sin_port);
    return true;
  }

 private:
  static sockaddr_in Addr(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  int fd_ = -1;
  uint16_t port_ = 0;
};

// The relay binary as a child process with its stdout on a pipe.
class RelayProcess {
 public:
  ~RelayProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // Starts `udp_relay --server-port SERVER --listen-port 0 --control-port 0
  // --max-seconds MAX ARGS...` and parses its ready line.
  void Start(uint16_t server_port, std::vector<std::string> args,
             const std::string& max_seconds = "20") {
    std::vector<std::string> all = {kRelayPath, "--server-port",
                                    absl::StrCat(server_port), "--listen-port",
                                    "0", "--control-port", "0",
                                    "--max-seconds", max_seconds};
    all.insert(all.end(), args.begin(), args.end());
    Spawn(all);
    std::string line = ReadLine(5000);
    ASSERT_THAT(line, HasSubstr("udp_relay ready")) << line;
    for (absl::string_view kv : absl::StrSplit(line, ' ')) {
      std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
      int* field = p.first == "listen"     ? &listen
                   : p.first == "upstream" ? &upstream
                   : p.first == "control"  ? &control
                                           : nullptr;
      if (field != nullptr) {
        ASSERT_TRUE(absl::SimpleAtoi(p.second, field)) << line;
      }
    }
    ASSERT_NE(listen, 0);
    ASSERT_NE(control, 0);
  }

  void Spawn(const std::vector<std::string>& argv) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      dup2(fds[1], 1);
      std::vector<char*> cargv;
      for (const std::string& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }

  // Sends a control command and returns the reply ("" on timeout).
  std::string Control(const std::string& command) {
    Udp ctl;
    ctl.SendTo(control, command);
    std::string reply;
    return ctl.Recv(&reply, nullptr, 2000) ? reply : "";
  }

  void Signal(int sig) { kill(pid_, sig); }

  // Reads one line of the relay's stdout (without "\n").
  std::string ReadLine(int timeout_ms) {
    auto start = Clock::now();
    while (buffer_.find('\n') == std::string::npos &&
           MsSince(start) < timeout_ms) {
      pollfd p = {out_, POLLIN, 0};
      poll(&p, 1, 50);
      char buf[512];
      ssize_t n = read(out_, buf, sizeof(buf));
      if (n == 0) break;
      if (n > 0) buffer_.append(buf, n);
    }
    size_t nl = buffer_.find('\n');
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl == std::string::npos ? nl : nl + 1);
    return line;
  }

  // Waits (up to timeout_ms) for the relay to exit by itself; returns its
  // wait status, or -1 on timeout. *output gets the rest of its stdout.
  int WaitExit(int timeout_ms, std::string* output) {
    auto start = Clock::now();
    int status = 0;
    while (MsSince(start) < timeout_ms) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        while (true) {
          std::string line = ReadLine(1000);
          if (line.empty()) break;
          *output += line + "\n";
        }
        return status;
      }
      usleep(10000);
    }
    return -1;
  }

  int listen = 0, upstream = 0, control = 0;

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

// Reads a counter like "lost=123" of direction "up:" or "down:" from a
// stats line.
uint64_t StatOf(const std::string& stats, const std::string& dir,
                const std::string& name) {
  size_t at = stats.find(dir + ":");
  at = stats.find(" " + name + "=", at);
  uint64_t value = 0;
  if (at == std::string::npos) return ~uint64_t{0};
  size_t begin = at + name.size() + 2;
  size_t end = stats.find(' ', begin);
  EXPECT_TRUE(absl::SimpleAtoi(stats.substr(begin, end - begin), &value));
  return value;
}

TEST(UdpRelayTest, ForwardsBothWaysWithDelay) {
  Udp server, client;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(
      server.port(), {"--up-delay-ms", "80", "--down-delay-ms", "40"}));
  for (int i = 0; i < 5; ++i) {
    std::string msg = absl::StrCat("ping", i), got;
    uint16_t from = 0;
    auto sent = Clock::now();
    client.SendTo(relay.listen, msg);
    ASSERT_TRUE(server.Recv(&got, &from, 3000));
    double up_ms = MsSince(sent);
    EXPECT_EQ(got, msg);
    EXPECT_EQ(from, relay.upstream);
    EXPECT_GE(up_ms, 78.0);
    EXPECT_LE(up_ms, 80.0 + 500.0);  // generous: shared, loaded machine
    server.SendTo(from, "pong" + msg);
    ASSERT_TRUE(client.Recv(&got, &from, 3000));
    double rtt_ms = MsSince(sent);
    EXPECT_EQ(got, "pong" + msg);
    EXPECT_EQ(from, relay.listen);
    EXPECT_GE(rtt_ms, 118.0);
    EXPECT_LE(rtt_ms, 120.0 + 800.0);
    printf("measured one-way up %.1f ms, rtt %.1f ms\n", up_ms, rtt_ms);
  }
}

// Sends `count` numbered datagrams through the relay in paced batches and
// returns the set of numbers the server received.
std::set<int> PushNumbered(Udp& client, Udp& server, uint16_t relay_port,
                           int count) {
  std::set<int> received;
  for (int base = 0; base < count; base += 50) {
    for (int i = base; i < std::min(count, base + 50); ++i) {
      client.SendTo(relay_port, absl::StrCat(i));
    }
    std::string got;
    while (server.Recv(&got, nullptr, 30)) {
      int n;
      EXPECT_TRUE(absl::SimpleAtoi(got, &n));
      received.insert(n);
    }
  }
  return received;
}

TEST(UdpRelayTest, LossRateMatchesProbability) {
  Udp server, client;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(
      relay.Start(server.port(), {"--up-loss", "0.25", "--seed", "42"}));
  constexpr int kPackets = 2000;
  std::set<int> got = PushNumbered(client, server, relay.listen, kPackets);
  double loss = 1.0 - static_cast<double>(got.size()) / kPackets;
  // sigma = sqrt(0.25 * 0.75 / 2000) ~= 0.0097; allow 5 sigma.
  EXPECT_NEAR(loss, 0.25, 0.05) << "received " << got.size();
  printf("measured up loss %.4f (%zu of %d received)\n", loss, got.size(),
         kPackets);
  std::string stats = relay.Control("stats");
  EXPECT_EQ(StatOf(stats, "up", "received"), uint64_t{kPackets}) << stats;
  EXPECT_EQ(StatOf(stats, "up", "lost"), kPackets - got.size()) << stats;
  EXPECT_EQ(StatOf(stats, "up", "sent"), got.size()) << stats;
  // Payloads are the decimal numbers: bytes count what entered and left.
  uint64_t all_bytes = 0, got_bytes = 0;
  for (int i = 0; i < kPackets; ++i) all_bytes += absl::StrCat(i).size();
  for (int n : got) got_bytes += absl::StrCat(n).size();
  EXPECT_EQ(StatOf(stats, "up", "received_bytes"), all_bytes) << stats;
  EXPECT_EQ(StatOf(stats, "up", "sent_bytes"), got_bytes) << stats;
}

TEST(UdpRelayTest, SameSeedReplaysSameLosses) {
  std::set<int> runs[3];
  const char* seeds[3] = {"7", "7", "8"};
  for (int r = 0; r < 3; ++r) {
    Udp server, client;
    RelayProcess relay;
    ASSERT_NO_FATAL_FAILURE(
        relay.Start(server.port(), {"--loss", "0.5", "--seed", seeds[r]}));
    runs[r] = PushNumbered(client, server, relay.listen, 200);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0], runs[2]);
}

TEST(UdpRelayTest, DuplicatesEveryDatagram) {
  Udp server, client;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(server.port(), {"--up-dup", "1"}));
  for (int i = 0; i < 10; ++i) client.SendTo(relay.listen, absl::StrCat(i));
  std::multiset<std::string> got;
  std::string msg;
  while (server.Recv(&msg, nullptr, 300)) got.insert(msg);
  EXPECT_EQ(got.size(), 20u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got.count(absl::StrCat(i)), 2u);
}

// Sends one datagram client -> server and returns the relay's source port
// as seen by the server (0 if nothing arrived).
uint16_t SourcePortSeenByServer(Udp& client, Udp& server, uint16_t relay_port) {
  client.SendTo(relay_port, "hello");
  std::string got;
  uint16_t from = 0;
  return server.Recv(&got, &from, 2000) ? from : 0;
}

TEST(UdpRelayTest, RebindCommandMakesClientRoam) {
  Udp server, client;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(server.port(), {}));
  uint16_t before = SourcePortSeenByServer(client, server, relay.listen);
  ASSERT_EQ(before, relay.upstream);
  std::string reply = relay.Control("rebind");
  ASSERT_THAT(reply, HasSubstr("ok upstream="));
  int announced = 0;
  ASSERT_TRUE(absl::SimpleAtoi(reply.substr(reply.find('=') + 1), &announced));
  uint16_t after = SourcePortSeenByServer(client, server, relay.listen);
  EXPECT_EQ(after, announced);
  EXPECT_NE(after, before);
  // Replies to the new port reach the client; the old port is gone.
  std::string got;
  server.SendTo(before, "to-old-port");
  server.SendTo(after, "to-new-port");
  ASSERT_TRUE(client.Recv(&got, nullptr, 2000));
  EXPECT_EQ(got, "to-new-port");
  EXPECT_FALSE(client.Recv(&got, nullptr, 200)) << got;
}

TEST(UdpRelayTest, Sigusr1MakesClientRoam) {
  Udp server, client;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(server.port(), {}));
  uint16_t before = SourcePortSeenByServer(client, server, relay.listen);
  relay.Signal(SIGUSR1);
  EXPECT_THAT(relay.ReadLine(2000), HasSubstr("rebind ok"));
  uint16_t after = SourcePortSeenByServer(client, server, relay.listen);
  EXPECT_NE(after, 0);
  EXPECT_NE(after, before);
}

TEST(UdpRelayTest, RepliesGoToClientsLatestAddress) {
  Udp server, client_a, client_b;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(server.port(), {}));
  uint16_t from = SourcePortSeenByServer(client_a, server, relay.listen);
  SourcePortSeenByServer(client_b, server, relay.listen);
  server.SendTo(from, "reply");
  std::string got;
  EXPECT_TRUE(client_b.Recv(&got, nullptr, 2000));
  EXPECT_FALSE(client_a.Recv(&got, nullptr, 200));
}

TEST(UdpRelayTest, FreezeBlackholesBothDirections) {
  Udp server, client;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(server.port(), {}));
  uint16_t from = SourcePortSeenByServer(client, server, relay.listen);
  ASSERT_NE(from, 0);
  auto frozen_at = Clock::now();
  ASSERT_THAT(relay.Control("freeze 0.6"), HasSubstr("ok frozen"));
  std::string got;
  client.SendTo(relay.listen, "lost-up");
  server.SendTo(from, "lost-down");
  EXPECT_FALSE(server.Recv(&got, nullptr, 200)) << got;
  EXPECT_FALSE(client.Recv(&got, nullptr, 50)) << got;
  usleep(static_cast<useconds_t>(
      std::max(0.0, 800.0 - MsSince(frozen_at)) * 1000));
  EXPECT_EQ(SourcePortSeenByServer(client, server, relay.listen), from);
  std::string stats = relay.Control("stats");
  EXPECT_EQ(StatOf(stats, "up", "blackholed"), 1u) << stats;
  EXPECT_EQ(StatOf(stats, "down", "blackholed"), 1u) << stats;
}

TEST(UdpRelayTest, MaxSecondsBoundsRunTimeAndPrintsStats) {
  Udp server, client;
  RelayProcess relay;
  auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(
      relay.Start(server.port(), {}, /*max_seconds=*/"0.5"));
  SourcePortSeenByServer(client, server, relay.listen);
  std::string output;
  int status = relay.WaitExit(5000, &output);
  ASSERT_NE(status, -1) << "relay did not stop by itself";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_LT(MsSince(start), 3000.0);
  EXPECT_THAT(output, HasSubstr("udp_relay stats: up: received=1 sent=1"));
}

TEST(UdpRelayTest, QuitCommandStops) {
  Udp server;
  RelayProcess relay;
  ASSERT_NO_FATAL_FAILURE(relay.Start(server.port(), {}));
  EXPECT_EQ(relay.Control("quit"), "ok");
  std::string output;
  EXPECT_NE(relay.WaitExit(3000, &output), -1);
  EXPECT_THAT(output, HasSubstr("udp_relay stats:"));
}

TEST(UdpRelayTest, RejectsBadCommandLine) {
  RelayProcess relay;
  relay.Spawn({kRelayPath, "--server-port", "9", "--loss", "1.5"});
  std::string output;
  int status = relay.WaitExit(3000, &output);
  ASSERT_NE(status, -1);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace
}  // namespace moshx::netem
