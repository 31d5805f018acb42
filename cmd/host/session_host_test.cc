#include "cmd/host/session_host.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/host/control_socket.h"
#include "cmd/host/relay_frame.h"
#include "cmd/host/relay_socket.h"
#include "gtest/gtest.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/udp_socket.h"

namespace moshx::cmd {
namespace {

// A host on a loopback UDP socket whose "session processes" are the test:
// launch() keeps the session's end of each relay.
class SessionHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = *net::PollEventLoop::Create(&clock_);
    SessionHost::Deps deps;
    deps.loop = loop_.get();
    deps.clock = &clock_;
    deps.now = [this] { return now_; };
    deps.socket = *net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0), {0, 0});
    deps.uid = getuid();
    deps.build_id = "build-a";
    deps.pid = 4242;
    deps.new_association = [this]() -> absl::StatusOr<NewAssociation> {
      std::array<uint8_t, 16> bytes{};
      bytes[0] = static_cast<uint8_t>(++next_id_);
      return NewAssociation{net::SessionKey(bytes), 0x1000 + next_id_};
    };
    deps.launch = [this](sys::ScopedFd relay) -> absl::StatusOr<pid_t> {
      const pid_t pid = 5000 + static_cast<pid_t>(relays_.size());
      relays_[pid] = std::move(relay);
      return pid;
    };
    deps.signal = [this](pid_t pid, int signo) { signals_.push_back({pid, signo}); };
    if (through_router_) {  // what the router would answer, recorded
      deps.claim_id = [this](uint64_t id) -> absl::Status {
        claim_order_.push_back(id);
        if (!refuse_claims_.ok()) return refuse_claims_;
        claimed_.insert(id);
        return absl::OkStatus();
      };
      deps.release_id = [this](uint64_t id) { EXPECT_EQ(claimed_.erase(id), 1u) << id; };
      deps.router = "/run/moshx/router.sock";
    }
    host_ = *SessionHost::Create(std::move(deps));
    client_ = *net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0), {0, 0});
  }

  void Spin(int turns = 5) {
    for (int i = 0; i < turns; ++i) ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(5)).ok());
  }

  // A control connection to the host; returns the test's end.
  sys::ScopedFd Connect() {
    int pair[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    host_->AddControlConnection(sys::ScopedFd(pair[1]));
    return sys::ScopedFd(pair[0]);
  }

  ControlMessage Request(int fd, const ControlMessage& request) {
    EXPECT_TRUE(SendControlMessage(fd, request).ok());
    for (int i = 0; i < 100; ++i) {
      Spin(1);
      absl::StatusOr<ReceivedMessage> reply = ReceiveControlMessage(fd, absl::ZeroDuration());
      if (reply.ok()) return reply->message;
    }
    ADD_FAILURE() << "no answer to " << request.verb;
    return {};
  }

  struct Created {
    uint64_t id = 0;
    uint64_t connection_id = 0;
    pid_t pid = 0;
  };
  Created New(int fd, const std::string& name = "") {
    ControlMessage reply = Request(fd, {"new", {Field("name", name), "width=100", "height=30",
                                                "arg=vim", "secret=not passed on"}});
    EXPECT_EQ(reply.verb, "ok") << (reply.fields.empty() ? "" : reply.fields.back());
    Created c;
    EXPECT_TRUE(absl::SimpleAtoi(FindField(reply, "id").value_or(""), &c.id));
    EXPECT_TRUE(absl::SimpleHexAtoi(FindField(reply, "connection_id").value_or(""),
                                    &c.connection_id));
    int pid = 0;
    EXPECT_TRUE(absl::SimpleAtoi(FindField(reply, "pid").value_or(""), &pid));
    c.pid = pid;
    absl::StatusOr<ControlMessage> start = ReceiveRelayControl(relays_[pid].get(), absl::Seconds(1));
    EXPECT_TRUE(start.ok());
    EXPECT_EQ(start->verb, "start");
    EXPECT_EQ(FindField(*start, "connection_id"), absl::StrCat(c.connection_id));
    EXPECT_EQ(FindField(*start, "arg"), "vim");
    EXPECT_EQ(FindField(*start, "secret"), std::nullopt);
    return c;
  }

  // A datagram as a moshx packet starts: the id, then at least nonce + tag.
  static std::string Packet(uint64_t connection_id, const std::string& body = "payload") {
    std::string out;
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(connection_id >> (8 * i)));
    return out + std::string(32, 'x') + body;
  }

  void SendToHost(const std::string& datagram) {
    ASSERT_TRUE(client_->SendTo(host_->local_address(), datagram).ok());
  }

  // The next 'D' frame on a session's relay, if any.
  std::optional<RelayFrame> NextDatagram(pid_t pid) {
    std::string buffer(kMaxRelayFrameSize, '\0');
    while (true) {
      const ssize_t n = recv(relays_[pid].get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n <= 0) return std::nullopt;
      absl::StatusOr<RelayFrame> f = ParseRelayFrame(absl::string_view(buffer.data(), n));
      if (f.ok() && f->type == kRelayDatagram) return *f;
    }
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  net::SystemClock clock_;
  std::unique_ptr<net::PollEventLoop> loop_;
  std::unique_ptr<SessionHost> host_;
  std::unique_ptr<net::UdpSocket> client_;
  std::map<pid_t, sys::ScopedFd> relays_;
  std::vector<std::pair<pid_t, int>> signals_;
  uint64_t next_id_ = 0;
  // With claim_id/release_id, as when the socket goes through moshx router.
  bool through_router_ = false;
  absl::Status refuse_claims_;  // what claim_id answers (OK: claimed)
  std::set<uint64_t> claimed_;
  std::vector<uint64_t> claim_order_;
};

class SessionHostRouterTest : public SessionHostTest {
 protected:
  void SetUp() override {
    through_router_ = true;
    SessionHostTest::SetUp();
  }
};

TEST_F(SessionHostTest, RoutesByConnectionIdBothWaysThroughOneSocket) {
  sys::ScopedFd control = Connect();
  Created a = New(control.get(), "a");
  Created b = New(control.get(), "b");
  SendToHost(Packet(b.connection_id, "to b"));
  SendToHost(Packet(a.connection_id, "to a"));
  Spin();
  std::optional<RelayFrame> at_a = NextDatagram(a.pid);
  std::optional<RelayFrame> at_b = NextDatagram(b.pid);
  ASSERT_TRUE(at_a.has_value());
  ASSERT_TRUE(at_b.has_value());
  EXPECT_TRUE(absl::EndsWith(at_a->datagram, "to a"));
  EXPECT_TRUE(absl::EndsWith(at_b->datagram, "to b"));
  EXPECT_EQ(at_a->address, client_->local_address());
  EXPECT_FALSE(NextDatagram(a.pid).has_value());

  // The reply leaves from the host's socket to the address in the frame.
  std::string frame;
  ASSERT_TRUE(EncodeRelayDatagram(at_a->address, "reply from a", false, &frame).ok());
  ASSERT_EQ(send(relays_[a.pid].get(), frame.data(), frame.size(), 0),
            static_cast<ssize_t>(frame.size()));
  Spin();
  absl::StatusOr<net::Datagram> got = client_->ReceiveFrom();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->payload, "reply from a");
  EXPECT_EQ(got->from.port(), host_->local_address().port());
  EXPECT_EQ(host_->stats().routed, 2u);
  EXPECT_EQ(host_->stats().sent, 1u);
}

TEST_F(SessionHostTest, UnknownAndShortDatagramsAreCountedDrops) {
  sys::ScopedFd control = Connect();
  Created a = New(control.get());
  SendToHost(Packet(a.connection_id + 99));
  SendToHost("short");
  Spin();
  EXPECT_EQ(host_->stats().dropped_unknown_id, 1u);
  EXPECT_EQ(host_->stats().dropped_short, 1u);
  EXPECT_EQ(host_->stats().routed, 0u);
  EXPECT_FALSE(NextDatagram(a.pid).has_value());
  const std::string stats = FindField(Request(control.get(), {"list", {}}), "stats").value_or("");
  EXPECT_TRUE(absl::StrContains(stats, "\"routes\":1,")) << stats;
  EXPECT_TRUE(absl::StrContains(stats, "\"dropped_unknown_id\":1,")) << stats;
  EXPECT_TRUE(absl::StrContains(stats, "\"dropped_short\":1,")) << stats;
}

TEST_F(SessionHostTest, AHungSessionLosesItsDatagramsWithoutStallingOthers) {
  sys::ScopedFd control = Connect();
  Created hung = New(control.get());
  Created fine = New(control.get());
  // The hung session never reads: its relay fills up.
  for (int i = 0; i < 3000; ++i) {
    SendToHost(Packet(hung.connection_id, std::string(1000, 'h')));
    if (i % 50 == 0) Spin(1);
  }
  Spin();
  SendToHost(Packet(fine.connection_id, "still here"));
  Spin();
  std::optional<RelayFrame> got = NextDatagram(fine.pid);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(absl::EndsWith(got->datagram, "still here"));
  EXPECT_GT(host_->stats().dropped_session_busy, 0u);
}

TEST_F(SessionHostTest, ListShowsStatusAndKillEndsTheSession) {
  sys::ScopedFd control = Connect();
  Created a = New(control.get(), "work");
  Created b = New(control.get());
  ASSERT_TRUE(SendRelayControl(relays_[a.pid].get(),
                               {"status",
                                {"contact=1800000000000", "client=192.0.2.1:50000", "width=120",
                                 "height=40", "foreground=vim"}})
                  .ok());
  now_ += absl::Seconds(2);
  Spin();
  ControlMessage list = Request(control.get(), {"list", {}});
  ASSERT_EQ(list.verb, "ok");
  const std::string json = FindField(list, "json").value_or("");
  EXPECT_TRUE(absl::StrContains(
      json, "{\"id\":1,\"name\":\"work\",\"created\":\"2027-01-15T08:00:00Z\",\"state\":"
            "\"attached\",\"last_contact\":\"2027-01-15T08:00:00Z\",\"last_client_address\":"
            "\"192.0.2.1:50000\",\"width\":120,\"height\":40,\"foreground_command\":\"vim\""))
      << json;
  EXPECT_TRUE(absl::StrContains(json, "{\"id\":2,\"name\":null,")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"state\":\"detached\"")) << json;

  ASSERT_TRUE(SendControlMessage(control.get(), {"kill", {"target=work"}}).ok());
  Spin();
  ASSERT_EQ(signals_.size(), 1u);
  EXPECT_EQ(signals_[0], std::make_pair(a.pid, SIGTERM));
  host_->OnSessionProcessExited(a.pid, SIGTERM);  // the raw wait status of a SIGTERM death
  absl::StatusOr<ReceivedMessage> killed = ReceiveControlMessage(control.get(), absl::Seconds(1));
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->message.verb, "ok");
  EXPECT_EQ(FindField(killed->message, "name"), "work");
  list = Request(control.get(), {"list", {}});
  EXPECT_FALSE(absl::StrContains(FindField(list, "json").value_or(""), "\"work\""));
  ControlMessage again = Request(control.get(), {"kill", {"target=work"}});
  EXPECT_EQ(again.verb, "error");
  EXPECT_TRUE(absl::StrContains(again.fields.back(), "already ended")) << again.fields.back();
  EXPECT_TRUE(absl::StrContains(again.fields.back(), "killed by moshx serve --kill"));
  ControlMessage unknown = Request(control.get(), {"kill", {"target=nope"}});
  EXPECT_EQ(ReplyStatus(unknown).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(unknown.fields.back(), "sessions: 2")) << unknown.fields.back();
  EXPECT_EQ(host_->session_pids(), std::vector<pid_t>{b.pid});
}

TEST_F(SessionHostTest, ACrashedSessionEndsAloneAndItsIdStopsRouting) {
  sys::ScopedFd control = Connect();
  Created crashed = New(control.get());
  Created other = New(control.get());
  relays_[crashed.pid].reset();  // the process died: its end closes
  Spin();
  host_->OnSessionProcessExited(crashed.pid, SIGSEGV);
  SendToHost(Packet(crashed.connection_id));
  SendToHost(Packet(other.connection_id));
  Spin();
  EXPECT_EQ(host_->stats().dropped_unknown_id, 1u);
  EXPECT_TRUE(NextDatagram(other.pid).has_value());
  ControlMessage attach = Request(control.get(), {"attach", {Field("target", "1")}});
  EXPECT_EQ(attach.verb, "error");
  EXPECT_TRUE(absl::StrContains(attach.fields.back(), "exit status 139")) << attach.fields.back();
  EXPECT_TRUE(absl::StrContains(attach.fields.back(), "signal 11")) << attach.fields.back();
}

TEST_F(SessionHostTest, AttachMovesTheRouteToAFreshIdOnceTheSessionAgrees) {
  sys::ScopedFd control = Connect();
  Created s = New(control.get(), "work");
  ASSERT_TRUE(SendControlMessage(control.get(), {"attach", {"target=work", "client=192.0.2.9"}}).ok());
  Spin();
  absl::StatusOr<ControlMessage> attach = ReceiveRelayControl(relays_[s.pid].get(), absl::Seconds(1));
  ASSERT_TRUE(attach.ok());
  EXPECT_EQ(attach->verb, "attach");
  EXPECT_EQ(FindField(*attach, "client"), "192.0.2.9");
  uint64_t fresh = 0;
  ASSERT_TRUE(absl::SimpleAtoi(FindField(*attach, "connection_id").value_or(""), &fresh));
  EXPECT_NE(fresh, s.connection_id);
  ASSERT_TRUE(net::SessionKey::FromBase64(FindField(*attach, "key").value_or("")).ok());
  // Until the session agrees, the old id still routes.
  SendToHost(Packet(s.connection_id));
  Spin();
  EXPECT_TRUE(NextDatagram(s.pid).has_value());
  ASSERT_TRUE(SendRelayControl(relays_[s.pid].get(), {"ok", {}}).ok());
  Spin();
  absl::StatusOr<ReceivedMessage> reply = ReceiveControlMessage(control.get(), absl::Seconds(1));
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->message.verb, "ok");
  EXPECT_EQ(FindField(reply->message, "connection_id"), absl::StrFormat("%016x", fresh));
  EXPECT_EQ(FindField(reply->message, "key"), FindField(*attach, "key"));
  SendToHost(Packet(fresh, "new client"));
  Spin();
  std::optional<RelayFrame> from_new = NextDatagram(s.pid);
  ASSERT_TRUE(from_new.has_value());
  EXPECT_TRUE(absl::EndsWith(from_new->datagram, "new client"));
  // The old id still reaches the session (the superseded client's
  // acknowledgement) until the session reports it retired.
  SendToHost(Packet(s.connection_id, "old client"));
  Spin();
  EXPECT_TRUE(NextDatagram(s.pid).has_value());
  EXPECT_EQ(host_->route_count(), 2u);
  ASSERT_TRUE(SendRelayControl(relays_[s.pid].get(),
                               {"retired", {Field("connection_id", absl::StrCat(s.connection_id))}})
                  .ok());
  Spin();
  EXPECT_EQ(host_->route_count(), 1u);
  SendToHost(Packet(s.connection_id, "old client replayed"));
  Spin();
  EXPECT_EQ(host_->stats().dropped_unknown_id, 1u);
  EXPECT_FALSE(NextDatagram(s.pid).has_value());
  // A session cannot retire its live id.
  ASSERT_TRUE(
      SendRelayControl(relays_[s.pid].get(), {"retired", {Field("connection_id", absl::StrCat(fresh))}})
          .ok());
  Spin();
  EXPECT_EQ(host_->route_count(), 1u);
}

TEST_F(SessionHostTest, ARefusedAttachKeepsTheOldRoute) {
  sys::ScopedFd control = Connect();
  Created s = New(control.get());
  ASSERT_TRUE(SendControlMessage(control.get(), {"attach", {"target=1"}}).ok());
  Spin();
  ASSERT_TRUE(ReceiveRelayControl(relays_[s.pid].get(), absl::Seconds(1)).ok());
  ASSERT_TRUE(SendRelayControl(relays_[s.pid].get(),
                               ErrorReply(absl::FailedPreconditionError("shutting down")))
                  .ok());
  Spin();
  absl::StatusOr<ReceivedMessage> reply = ReceiveControlMessage(control.get(), absl::Seconds(1));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(ReplyStatus(reply->message).message(), "shutting down");
  SendToHost(Packet(s.connection_id));
  Spin();
  EXPECT_TRUE(NextDatagram(s.pid).has_value());
}

TEST_F(SessionHostTest, AHostOfAnotherBuildListsButRefusesNewSessions) {
  sys::ScopedFd control = Connect();
  New(control.get(), "old");
  sys::ScopedFd newer = Connect();
  ControlMessage hello = Request(newer.get(), {"hello", {"build=build-b"}});
  EXPECT_EQ(FindField(hello, "build"), "build-a");
  ControlMessage refused = Request(newer.get(), {"new", {}});
  EXPECT_EQ(ReplyStatus(refused).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.fields.back(), "another moshx build (build-a)"));
  EXPECT_TRUE(absl::StrContains(refused.fields.back(), "1 (old)"));
  EXPECT_EQ(Request(newer.get(), {"list", {}}).verb, "ok");
}

TEST(SessionHostPeerTest, RefusesAControlConnectionOfAnotherUser) {
  net::SystemClock clock;
  auto loop = *net::PollEventLoop::Create(&clock);
  SessionHost::Deps deps;
  deps.loop = loop.get();
  deps.clock = &clock;
  deps.now = [] { return absl::UnixEpoch(); };
  deps.socket = *net::UdpSocket::Bind(*net::Address::Parse("127.0.0.1", 0), {0, 0});
  deps.uid = getuid() + 1;  // the peer (this process) is someone else
  deps.new_association = []() -> absl::StatusOr<NewAssociation> {
    return absl::InternalError("not reached");
  };
  int launched = 0;
  deps.launch = [&launched](sys::ScopedFd) -> absl::StatusOr<pid_t> {
    ++launched;
    return 1;
  };
  deps.signal = [](pid_t, int) {};
  auto host = *SessionHost::Create(std::move(deps));
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  sys::ScopedFd ours(pair[0]);
  host->AddControlConnection(sys::ScopedFd(pair[1]));
  absl::StatusOr<ReceivedMessage> refusal = ReceiveControlMessage(ours.get(), absl::Seconds(1));
  ASSERT_TRUE(refusal.ok());
  EXPECT_EQ(ReplyStatus(refusal->message).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(refusal->message.fields.back(), "permission denied"));
  // The connection is closed: a request gets no session.
  SendControlMessage(ours.get(), {"new", {}}).IgnoreError();
  ASSERT_TRUE(loop->RunOnce(absl::Milliseconds(10)).ok());
  EXPECT_EQ(launched, 0);
  EXPECT_TRUE(absl::IsUnavailable(ReceiveControlMessage(ours.get(), absl::Seconds(1)).status()));
}

TEST_F(SessionHostTest, ExitsOnceItsLastSessionEndedAndNobodyIsConnected) {
  EXPECT_FALSE(host_->ShouldExit());
  sys::ScopedFd control = Connect();
  Created s = New(control.get());
  EXPECT_FALSE(host_->ShouldExit());
  host_->OnSessionProcessExited(s.pid, 0);
  EXPECT_FALSE(host_->ShouldExit());  // the control connection is still open
  control.reset();
  Spin();
  EXPECT_TRUE(host_->ShouldExit());
}

}  // namespace
}  // namespace moshx::cmd

namespace moshx::cmd {
namespace {

TEST_F(SessionHostRouterTest, ClaimsEveryRoutedIdAndReleasesItWhenItStopsRouting) {
  sys::ScopedFd control = Connect();
  ControlMessage hello = Request(control.get(), {"hello", {"build=build-a"}});
  EXPECT_EQ(FindField(hello, "router"), "/run/moshx/router.sock");
  Created a = New(control.get(), "a");
  Created b = New(control.get(), "b");
  EXPECT_EQ(claimed_, (std::set<uint64_t>{a.connection_id, b.connection_id}));
  ControlMessage list = Request(control.get(), {"list", {}});
  EXPECT_EQ(FindField(list, "router"), "/run/moshx/router.sock");
  EXPECT_EQ(FindField(list, "port"), absl::StrCat(host_->local_address().port()));

  // attach: the fresh id is claimed before the session hears of it.
  ASSERT_TRUE(SendControlMessage(control.get(), {"attach", {"target=a"}}).ok());
  Spin();
  absl::StatusOr<ControlMessage> attach = ReceiveRelayControl(relays_[a.pid].get(), absl::Seconds(1));
  ASSERT_TRUE(attach.ok());
  uint64_t fresh = 0;
  ASSERT_TRUE(absl::SimpleAtoi(FindField(*attach, "connection_id").value_or(""), &fresh));
  EXPECT_EQ(claimed_.count(fresh), 1u);
  ASSERT_TRUE(SendRelayControl(relays_[a.pid].get(), {"ok", {}}).ok());
  Spin();
  ASSERT_TRUE(ReceiveControlMessage(control.get(), absl::Seconds(1)).ok());
  // The old id stays claimed until retired, then is released.
  EXPECT_EQ(claimed_.count(a.connection_id), 1u);
  ASSERT_TRUE(SendRelayControl(relays_[a.pid].get(),
                               {"retired", {Field("connection_id", absl::StrCat(a.connection_id))}})
                  .ok());
  Spin();
  EXPECT_EQ(claimed_, (std::set<uint64_t>{fresh, b.connection_id}));

  // A session that ends gives its ids up.
  relays_[b.pid].reset();
  Spin();
  host_->OnSessionProcessExited(b.pid, 0);
  EXPECT_EQ(claimed_, (std::set<uint64_t>{fresh}));
}

TEST_F(SessionHostRouterTest, AnIdTheRouterRefusesStartsNoSession) {
  sys::ScopedFd control = Connect();
  refuse_claims_ = absl::PermissionDeniedError("connection id 0000000000001001 belongs to another user");
  ControlMessage refused = Request(control.get(), {"new", {}});
  EXPECT_EQ(ReplyStatus(refused).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(refused.fields.back(), "moshx router: ")) << refused.fields.back();
  EXPECT_TRUE(relays_.empty());  // no session process was started
  EXPECT_EQ(host_->route_count(), 0u);
  EXPECT_TRUE(host_->registry().Live().empty());
  // The id was not claimed, so nothing is routed for it either.
  ASSERT_EQ(claim_order_.size(), 1u);
  SendToHost(Packet(claim_order_[0]));
  Spin();
  EXPECT_EQ(host_->stats().dropped_unknown_id, 1u);
}

TEST_F(SessionHostRouterTest, AnAttachRefusedByTheRouterOrTheSessionReleasesTheFreshId) {
  sys::ScopedFd control = Connect();
  Created s = New(control.get());
  // The router refuses: the session hears nothing.
  refuse_claims_ = absl::ResourceExhaustedError("this user holds its maximum of router sessions");
  ControlMessage refused = Request(control.get(), {"attach", {"target=1"}});
  EXPECT_EQ(ReplyStatus(refused).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(ReceiveRelayControl(relays_[s.pid].get(), absl::ZeroDuration()).ok());
  // The session refuses: the claimed id is given up, the old one kept.
  refuse_claims_ = absl::OkStatus();
  ASSERT_TRUE(SendControlMessage(control.get(), {"attach", {"target=1"}}).ok());
  Spin();
  ASSERT_TRUE(ReceiveRelayControl(relays_[s.pid].get(), absl::Seconds(1)).ok());
  EXPECT_EQ(claimed_.size(), 2u);
  ASSERT_TRUE(SendRelayControl(relays_[s.pid].get(),
                               ErrorReply(absl::FailedPreconditionError("shutting down")))
                  .ok());
  Spin();
  ASSERT_TRUE(ReceiveControlMessage(control.get(), absl::Seconds(1)).ok());
  EXPECT_EQ(claimed_, (std::set<uint64_t>{s.connection_id}));
}

}  // namespace
}  // namespace moshx::cmd
