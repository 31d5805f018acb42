#include "cmd/server/session_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cmd/forward/server_forwarding.h"
#include "cmd/host/control_message.h"
#include "cmd/options.h"
#include "cmd/host/relay_socket.h"
#include "cmd/server/server_session.h"
#include "cmd/sys/process.h"
#include "cmd/sys/pty.h"
#include "cmd/sys/spawn.h"

namespace moshx::cmd {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kStatusInterval = absl::Seconds(1);

int IntField(const ControlMessage& m, absl::string_view key, int fallback) {
  int out = 0;
  std::optional<std::string> v = FindField(m, key);
  return v.has_value() && absl::SimpleAtoi(*v, &out) ? out : fallback;
}

absl::Duration MillisField(const ControlMessage& m, absl::string_view key) {
  int64_t ms = 0;
  std::optional<std::string> v = FindField(m, key);
  if (!v.has_value() || !absl::SimpleAtoi(*v, &ms) || ms <= 0) return absl::ZeroDuration();
  return absl::Milliseconds(ms);
}

// The pty's foreground program: /proc/PGID/comm of its foreground group.
std::string ForegroundCommand(const sys::Pty* pty) {
  if (pty == nullptr) return "";
  const pid_t group = tcgetpgrp(pty->master_fd());
  if (group <= 0) return "";
  std::ifstream comm(absl::StrCat("/proc/", group, "/comm"));
  std::string name;
  std::getline(comm, name);
  return name;
}

struct Status {
  int64_t contact_ms = 0;
  std::string client;
  int width = 0;
  int height = 0;
  std::string foreground;
  bool operator==(const Status& o) const {
    return contact_ms == o.contact_ms && client == o.client && width == o.width &&
           height == o.height && foreground == o.foreground;
  }
};

// Answers the host's `attach` (docs/sessions.md §5): the session takes the
// fresh key and id as its live association; the old id goes on `retiring`.
ControlMessage Attach(ServerSession* session, const ControlMessage& request,
                      uint64_t* connection_id, std::vector<uint64_t>* retiring) {
  absl::StatusOr<net::SessionKey> key =
      net::SessionKey::FromBase64(FindField(request, "key").value_or(""));
  uint64_t fresh = 0;
  if (!key.ok() || !absl::SimpleAtoi(FindField(request, "connection_id").value_or(""), &fresh)) {
    return ErrorReply(absl::InvalidArgumentError("attach without a valid key and id"));
  }
  // The lines the new client gets first (`moshx connect --history`); an
  // older host sends none: the default.
  int64_t history = kDefaultAttachHistory;
  if (std::optional<std::string> h = FindField(request, "history");
      h.has_value() && !absl::SimpleAtoi(*h, &history)) {
    return ErrorReply(absl::InvalidArgumentError("attach with a bad history count"));
  }
  history = std::clamp<int64_t>(history, 0, static_cast<int64_t>(HistoryRing::kMaxLines));
  if (absl::Status s = session->Reassociate(*key, fresh, static_cast<size_t>(history)); !s.ok()) {
    return ErrorReply(s);
  }
  retiring->push_back(*connection_id);
  *connection_id = fresh;
  return {"ok", {}};
}

}  // namespace

int RunSessionProcess() {
  sys::IgnoreHangupAndBrokenPipe();
  // The relay moves off descriptor 0 (close-on-exec: the shell must not
  // inherit it); 0 becomes /dev/null.
  sys::ScopedFd relay(fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!relay.valid()) return 1;
  const int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    if (null_fd != STDIN_FILENO) close(null_fd);
  }
  absl::StatusOr<ControlMessage> start = ReceiveRelayControl(relay.get(), kStartTimeout);
  if (!start.ok() || start->verb != "start") {
    std::fprintf(stderr, "moshx-session: no start message: %s\n",
                 std::string(start.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<net::SessionKey> key =
      net::SessionKey::FromBase64(FindField(*start, "key").value_or(""));
  uint64_t connection_id = 0;
  absl::StatusOr<net::Address> local = net::Address::Parse(
      FindField(*start, "local_ip").value_or("0.0.0.0"), IntField(*start, "local_port", 0));
  if (!key.ok() || !local.ok() ||
      !absl::SimpleAtoi(FindField(*start, "connection_id").value_or(""), &connection_id)) {
    std::fprintf(stderr, "moshx-session: malformed start message\n");
    return 1;
  }
  const bool verbose = FindField(*start, "verbose").value_or("0") != "0";

  auto runtime = sys::ProcessRuntime::Create();
  if (!runtime.ok()) return 1;
  net::EventLoop* loop = (*runtime)->loop();
  absl::StatusOr<std::unique_ptr<RelaySocket>> socket = RelaySocket::Adopt(std::move(relay), *local);
  if (!socket.ok()) return 1;
  RelaySocket* relay_socket = socket->get();

  ServerSessionOptions so;
  so.mode = net::WireMode::kMoshx;
  so.connection_id = connection_id;
  so.network_timeout = MillisField(*start, "network_timeout_ms");
  so.signal_timeout = MillisField(*start, "signal_timeout_ms");
  so.width = IntField(*start, "width", 80);
  so.height = IntField(*start, "height", 24);
  so.release_free_memory = sys::ReleaseFreeHeapMemory;
  so.scrollback_lines = static_cast<size_t>(
      std::clamp<int64_t>(IntField(*start, "scrollback_lines", 10000), 0, kMaxScrollbackLines));
  sys::PtyOptions po;
  po.argv = FindFields(*start, "arg");
  po.term = FindField(*start, "term").value_or("xterm-256color");
  po.extra_env = FindFields(*start, "env");
  // SSH_AUTH_SOCK names the session's agent socket, which exists while a
  // client with -A is attached (docs/forwarding.md §3); it replaces any the
  // host passed on.
  forward::AgentSocketDir agent_dir;
  po.extra_env.erase(std::remove_if(po.extra_env.begin(), po.extra_env.end(),
                                    [](const std::string& e) {
                                      return absl::StartsWith(e, "SSH_AUTH_SOCK=");
                                    }),
                     po.extra_env.end());
  if (!agent_dir.socket_path().empty()) {
    po.extra_env.push_back(agent_dir.EnvironmentEntry());
  } else if (verbose) {
    std::fprintf(stderr, "moshx-session: no agent forwarding: %s\n", agent_dir.error().c_str());
  }
  po.home = FindField(*start, "home").value_or("");
  po.shell = FindField(*start, "shell").value_or("");
  auto session = ServerSession::Create(
      {loop, (*runtime)->clock(), *std::move(socket), nullptr, (*runtime)->rng()}, *key, so,
      [po](sys::WindowSize size) {
        sys::PtyOptions sized = po;
        sized.size = size;
        return sys::Pty::Spawn(sized);
      });
  if (!session.ok()) {
    relay_socket->SendControl({"ended", {Field("reason", session.status().message())}})
        .IgnoreError();
    return 1;
  }
  ServerSession* s = session->get();
  for (int signo : {SIGTERM, SIGINT}) {
    loop->WatchSignal(signo, [s] { s->OnTerminateSignal(); }).IgnoreError();
  }
  loop->WatchSignal(SIGUSR1, [s] { s->OnUsr1Signal(); }).IgnoreError();
  // -L/-D connects, -R listeners and the agent socket, for whichever client
  // holds the session (re-attached after each attach). Declared after the
  // session: destroyed before it.
  forward::ServerForwarding forwarding(loop, agent_dir.socket_path(),
                                       [verbose](const std::string& line) {
                                         if (verbose) {
                                           std::fprintf(stderr, "moshx-session: %s\n",
                                                        line.c_str());
                                         }
                                       });
  forwarding.Attach(s->streams());

  std::vector<uint64_t> retiring;  // ids of revoked associations not yet removed
  Status reported;
  reported.width = so.width;
  reported.height = so.height;
  std::optional<net::MonoTime> reported_heard;
  net::MonoTime next_report = (*runtime)->clock()->Now();
  while (!s->done()) {
    const net::MonoTime now = (*runtime)->clock()->Now();
    const std::optional<net::MonoTime> heard = s->transport().connection().last_heard();
    absl::Duration wait = s->WaitTime();
    if (heard != reported_heard) wait = std::min(wait, std::max(absl::ZeroDuration(), next_report - now));
    loop->RunOnce(wait).IgnoreError();
    s->Service();
    for (const ControlMessage& m : relay_socket->TakeControlMessages()) {
      if (m.verb == "attach") {
        // A successful attach destroys the old association's mux: the
        // forwarder lets go of it first (it resets its streams and clears
        // the mux's handler), then serves the current one, new or not.
        forwarding.Attach(nullptr);
        relay_socket->SendControl(Attach(s, m, &connection_id, &retiring)).IgnoreError();
        forwarding.Attach(s->streams());
      }
    }
    // Old associations gone (told and acknowledged, or timed out): the host
    // may stop routing their ids.
    if (!retiring.empty() && s->revoked_associations() == 0) {
      for (uint64_t id : retiring) {
        relay_socket->SendControl({"retired", {Field("connection_id", absl::StrCat(id))}})
            .IgnoreError();
      }
      retiring.clear();
    }
    if (relay_socket->closed()) {  // the host is gone: nobody can reach this session
      s->OnTerminateSignal();
      s->OnTerminateSignal();
      break;
    }
    const net::MonoTime after = (*runtime)->clock()->Now();
    if (after < next_report) continue;
    Status current;
    const std::optional<net::MonoTime> last = s->transport().connection().last_heard();
    if (last.has_value()) {
      current.contact_ms = absl::ToUnixMillis(absl::Now() - (after - *last));
    }
    if (std::optional<net::Address> peer = s->transport().connection().remote_address()) {
      current.client = peer->ToString();
    }
    current.width = reported.width;
    current.height = reported.height;
    if (s->pty() != nullptr) {
      if (absl::StatusOr<sys::WindowSize> size = s->pty()->GetSize(); size.ok()) {
        current.width = size->cols;
        current.height = size->rows;
      }
    }
    current.foreground = ForegroundCommand(s->pty());
    reported_heard = last;
    next_report = after + kStatusInterval;
    if (current == reported) continue;
    // A full relay loses this report; the next change sends a fresh one.
    relay_socket
        ->SendControl({"status",
                       {Field("contact", absl::StrCat(current.contact_ms)),
                        Field("client", current.client), Field("width", absl::StrCat(current.width)),
                        Field("height", absl::StrCat(current.height)),
                        Field("foreground", current.foreground)}})
        .IgnoreError();
    reported = current;
  }
  forwarding.Attach(nullptr);
  const std::string reason = s->done() ? s->exit_reason() : "the session host went away";
  if (verbose) std::fprintf(stderr, "moshx-session: session ended: %s\n", reason.c_str());
  relay_socket->SendControl({"ended", {Field("reason", reason)}}).IgnoreError();
  // The shell's exit status, when it has ended (it was hung up otherwise).
  int code = 0;
  if (s->pty() != nullptr) {
    const pid_t child = s->pty()->child_pid();
    int status = 0;
    for (int i = 0; i < 20; ++i) {
      const pid_t r = waitpid(child, &status, WNOHANG);
      if (r == child) {
        code = sys::ShellExitCode(status);
        break;
      }
      if (r < 0) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  return code;
}

}  // namespace moshx::cmd
