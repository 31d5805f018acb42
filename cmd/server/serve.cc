#include "cmd/server/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cmd/build_info.h"
#include "cmd/host/control_socket.h"
#include "cmd/host/registry.h"
#include "cmd/host/session_host.h"
#include "cmd/forward/server_forwarding.h"
#include "cmd/launch/connect_line.h"
#include "cmd/router/router_datagram_socket.h"
#include "cmd/server/locale.h"
#include "cmd/server/server_session.h"
#include "cmd/server/session_process.h"
#include "cmd/server/ssh_bridge.h"
#include "cmd/sys/process.h"
#include "cmd/sys/pty.h"
#include "cmd/sys/spawn.h"
#include "cmd/sys/tty.h"
#include "net/connection.h"
#include "net/stream_path.h"
#include "net/udp_socket.h"
#include "openssl/rand.h"

namespace moshx::cmd {
namespace {

void Log(const ServeOptions& o, const std::string& line) {
  if (o.verbose > 0 || o.foreground) std::fprintf(stderr, "moshx serve: %s\n", line.c_str());
}

// The session's environment additions: the chosen locale, -l assignments and
// the variables terminal programs expect.
std::vector<std::string> SessionEnvironment(const ServeOptions& o) {
  std::map<std::string, std::string> locale_vars = o.locale_environment;
  std::vector<std::string> env;
  for (const auto& [name, value] : o.environment) {
    bool is_locale = false;
    for (const std::string& l : LocaleVariableNames()) is_locale |= l == name;
    if (is_locale) {
      locale_vars[name] = value;
    } else {
      env.push_back(absl::StrCat(name, "=", value));
    }
  }
  LocaleChoice choice = ChooseLocale(locale_vars, AvailableLocales());
  if (!choice.warning.empty()) std::fprintf(stderr, "%s\n", choice.warning.c_str());
  for (const auto& [name, value] : choice.environment) {
    if (!value.empty() || o.locale_environment.count(name) != 0) {
      env.push_back(absl::StrCat(name, "=", value));
    }
  }
  env.push_back("NCURSES_NO_UTF8_ACS=1");
  return env;
}

std::string JsonLine(const ConnectInfo& info, pid_t pid) {
  return absl::StrFormat(
      "{\"event\":\"connect\",\"mode\":\"%s\",\"port\":%d,\"key\":\"%s\","
      "\"connection_id\":\"%016x\",\"pid\":%d}",
      info.mode == net::WireMode::kMosh ? "mosh" : "moshx", info.port, info.key.ToBase64(),
      info.connection_id, pid);
}

// The daemon: no controlling terminal, stdio on /dev/null (stderr kept with -v).
// Best effort: setsid fails only for a process group leader (never the
// forked child), and without /dev/null the standard descriptors stay as they
// were.
void Detach(const ServeOptions& o) {
  setsid();
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0) return;
  dup2(null_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  if (o.verbose == 0) dup2(null_fd, STDERR_FILENO);
  if (null_fd > STDERR_FILENO) close(null_fd);
}

// Binds the UDP socket. As mosh-server (personality), an address that cannot
// be used (-i, -s) is reported and every interface is tried instead, like mosh.
absl::StatusOr<std::unique_ptr<net::UdpSocket>> BindSocket(const ServeOptions& o) {
  auto ip = net::Address::Parse(o.bind_address, 0);
  if (!ip.ok() && !o.mosh_server) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind ", o.bind_address, ": not a numeric IP address"));
  }
  if (ip.ok()) {
    auto socket = net::UdpSocket::Bind(*ip, o.port_range);
    if (socket.ok() || !o.mosh_server || o.bind_address == "0.0.0.0") return socket;
    std::fprintf(stderr, "Error binding to IP %s: %s\n", o.bind_address.c_str(),
                 std::string(socket.status().message()).c_str());
  } else {
    std::fprintf(stderr, "Error binding to IP %s: not a numeric IP address\n",
                 o.bind_address.c_str());
  }
  return net::UdpSocket::Bind(*net::Address::Parse("0.0.0.0", 0), o.port_range);
}

// The size of state 0: mosh-server takes its stdin's (the ssh pty's), else 80x24.
sys::WindowSize InitialSize(const ServeOptions& o) {
  sys::WindowSize size;
  if (!o.mosh_server) return size;
  auto tty = sys::GetWindowSize(STDIN_FILENO);
  if (tty.ok() && tty->cols > 0 && tty->rows > 0) size = *tty;
  return size;
}

int RunSession(const ServeOptions& o, std::unique_ptr<net::UdpSocket> socket,
               const ConnectInfo& info, std::vector<std::string> env,
               sys::WindowSize initial) {
  auto runtime = sys::ProcessRuntime::Create();
  if (!runtime.ok()) {
    Log(o, absl::StrCat("cannot create the event loop: ", runtime.status().message()));
    return 1;
  }
  net::EventLoop* loop = (*runtime)->loop();
  ServerSessionOptions so;
  so.mode = info.mode;
  so.connection_id = info.connection_id;
  so.network_timeout = o.network_timeout;
  so.signal_timeout = o.signal_timeout;
  so.release_free_memory = sys::ReleaseFreeHeapMemory;
  so.scrollback_lines = o.scrollback_lines;
  so.width = initial.cols;
  so.height = initial.rows;
  so.first_seq = net::TimeBasedFirstSequence((*runtime)->WallNow());
  // moshx mode: SSH_AUTH_SOCK names the session's agent socket, which exists
  // while a client with -A is attached (docs/forwarding.md §3).
  std::unique_ptr<forward::AgentSocketDir> agent_dir;
  if (info.mode == net::WireMode::kMoshx) {
    agent_dir = std::make_unique<forward::AgentSocketDir>();
    if (agent_dir->socket_path().empty()) {
      Log(o, absl::StrCat("no agent forwarding: ", agent_dir->error()));
    } else {
      env.push_back(agent_dir->EnvironmentEntry());
    }
  }
  sys::PtyOptions po;
  po.argv = o.command;
  po.term = o.term;
  po.extra_env = std::move(env);
  po.home = o.home;
  po.shell = o.shell;
  auto session = ServerSession::Create(
      {loop, (*runtime)->clock(), std::move(socket), nullptr, (*runtime)->rng()}, info.key, so,
      [po](sys::WindowSize size) {
        sys::PtyOptions sized = po;
        sized.size = size;
        return sys::Pty::Spawn(sized);
      });
  if (!session.ok()) {
    Log(o, absl::StrCat("cannot start the session: ", session.status().message()));
    return 1;
  }
  ServerSession* s = session->get();
  // -L/-D connects, -R listeners and the agent socket (moshx mode). Declared
  // after the session: destroyed before it (it uses the session's mux).
  forward::ServerForwarding forwarding(loop, agent_dir ? agent_dir->socket_path() : "",
                                       [&o](const std::string& line) { Log(o, line); });
  forwarding.Attach(s->streams());
  // The loop refuses a watch only for a bad signal number: not these.
  for (int signo : {SIGTERM, SIGINT}) {
    loop->WatchSignal(signo, [s] { s->OnTerminateSignal(); }).IgnoreError();
  }
  loop->WatchSignal(SIGUSR1, [s] { s->OnUsr1Signal(); }).IgnoreError();
  while (!s->done()) {
    // RunOnce fails only when poll(2) does (ENOMEM; EINTR is no error): the
    // next turn retries.
    loop->RunOnce(s->WaitTime()).IgnoreError();
    s->Service();
  }
  forwarding.Attach(nullptr);
  Log(o, absl::StrCat("session ended: ", s->exit_reason()));
  if (o.mosh_server) std::printf("\n[mosh-server is exiting.]\n");  // seen only with -v
  return 0;
}


// --- the session host (docs/sessions.md) --------------------------------------

constexpr absl::Duration kHostAnswerTimeout = absl::Seconds(15);
// How long a new host waits for the router's hello, and for the answer to
// each claim.
constexpr absl::Duration kRouterTimeout = absl::Seconds(2);

// The host's datagram socket: its connection to `moshx router` when one
// answers at --router (docs/router.md), else a UDP port of its own.
struct HostSocket {
  std::unique_ptr<net::DatagramSocket> socket;
  router::RouterDatagramSocket* router = nullptr;  // == socket, when through the router
};

absl::StatusOr<HostSocket> OpenHostSocket(const ServeOptions& o) {
  HostSocket out;
  if (o.router_socket != "none") {
    absl::StatusOr<std::unique_ptr<router::RouterDatagramSocket>> r =
        router::RouterDatagramSocket::Connect(o.router_socket, kRouterTimeout);
    if (r.ok()) {
      out.router = r->get();
      out.socket = *std::move(r);
      Log(o, absl::StrCat("session host: through moshx router at ", o.router_socket,
                          ", UDP port ", out.socket->local_address().port()));
      return out;
    }
    Log(o, absl::StrCat("session host: no moshx router at ", o.router_socket, " (",
                        r.status().message(), "); a UDP port of its own"));
  }
  auto socket = BindSocket(o);
  if (!socket.ok()) return socket.status();
  out.socket = *std::move(socket);
  return out;
}

// The host's loop: runs until it has no session and no control connection
// left, then removes its socket and exits. Runs in the forked, detached child
// of the `moshx serve` that started it; `lock` (host.lock) is held throughout.
int RunHost(const ServeOptions& o, HostSocket socket, sys::ScopedFd listener,
            sys::ScopedFd lock, const std::string& socket_path) {
  auto runtime = sys::ProcessRuntime::Create();
  if (!runtime.ok()) return 1;
  net::EventLoop* loop = (*runtime)->loop();
  const int verbose = o.verbose;
  SessionHost::Deps deps;
  deps.loop = loop;
  deps.clock = (*runtime)->clock();
  deps.now = [] { return absl::Now(); };
  router::RouterDatagramSocket* const router = socket.router;
  deps.socket = std::move(socket.socket);
  if (router != nullptr) {
    deps.claim_id = [router](uint64_t id) { return router->Claim(id, kRouterTimeout); };
    deps.release_id = [router](uint64_t id) { router->Forget(id).IgnoreError(); };
    deps.router = o.router_socket;
  }
  deps.control_listener = std::move(listener);
  deps.uid = getuid();
  deps.build_id = BuildId();
  deps.pid = getpid();
  deps.new_association = []() -> absl::StatusOr<NewAssociation> {
    net::RandBytesKeySource keys;
    absl::StatusOr<net::SessionKey> key = keys.NewKey();
    if (!key.ok()) return key.status();
    NewAssociation a{*key, 0};
    while (a.connection_id == 0) {
      RAND_bytes(reinterpret_cast<uint8_t*>(&a.connection_id), sizeof(a.connection_id));
    }
    return a;
  };
  deps.launch = [verbose](sys::ScopedFd relay) -> absl::StatusOr<pid_t> {
    sys::SpawnOptions so;
    so.argv = {kSessionProcessName};
    so.program = "/proc/self/exe";
    so.stdin_fd = relay.get();
    so.stdout_fd = sys::kDevNull;
    so.stderr_fd = verbose > 0 ? sys::kInherit : sys::kDevNull;
    so.reset_signals = true;
    absl::StatusOr<sys::SpawnedProcess> child = sys::Spawn(so);
    if (!child.ok()) return child.status();
    return child->pid;
  };
  deps.signal = [](pid_t pid, int signo) { kill(pid, signo); };
  absl::StatusOr<std::unique_ptr<SessionHost>> host = SessionHost::Create(std::move(deps));
  if (!host.ok()) return 1;
  SessionHost* h = host->get();
  auto reap = [h] {
    for (pid_t pid : h->session_pids()) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) h->OnSessionProcessExited(pid, status);
    }
  };
  loop->WatchSignal(SIGCHLD, reap).IgnoreError();
  for (int signo : {SIGTERM, SIGINT}) {
    loop->WatchSignal(signo, [h] { h->TerminateAll(); }).IgnoreError();
  }
  bool unlinked = false;
  while (true) {
    // Once a second while idle or while the router is gone (it restarted:
    // connect again and claim every id, even when no session sends).
    const bool router_gone = router != nullptr && !router->connected();
    loop->RunOnce(h->session_pids().empty() || router_gone ? absl::Seconds(1)
                                                           : absl::InfiniteDuration())
        .IgnoreError();
    if (router != nullptr) router->EnsureConnected().IgnoreError();
    reap();
    if (!h->ShouldExit()) continue;
    if (!unlinked) {  // no new connection can arrive after this
      unlink(socket_path.c_str());
      unlinked = true;
      h->BeginExit();
      if (!h->ShouldExit()) continue;
    }
    break;
  }
  host->reset();
  lock.reset();
  return 0;
}

// Starts the host: binds its UDP socket and control socket here (so errors
// reach the user), then forks the detached host. Called with host.lock held;
// the child keeps the lock.
absl::Status StartHost(const ServeOptions& o, const std::string& socket_path,
                       sys::ScopedFd lock) {
  absl::StatusOr<HostSocket> socket = OpenHostSocket(o);
  if (!socket.ok()) return socket.status();
  absl::StatusOr<sys::ScopedFd> listener = ListenControlSocket(socket_path);
  if (!listener.ok()) return listener.status();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork (session host)");
  if (pid > 0) return absl::OkStatus();
  Detach(o);
  prctl(PR_SET_NAME, "moshx-host");  // what ps and top show (the command line stays serve's)
  _exit(RunHost(o, *std::move(socket), *std::move(listener), std::move(lock), socket_path));
}

struct HostConnection {
  sys::ScopedFd fd;
  ControlMessage hello;
};

// This build's host in this network namespace: "<netns inode>-<build id
// prefix>" (cmd/host/control_socket.h).
std::string HostTag() {
  char link[64] = {};
  std::string netns = "0";
  const ssize_t n = readlink("/proc/self/ns/net", link, sizeof(link) - 1);
  if (n > 0) {  // "net:[4026531840]"
    const std::string text(link, static_cast<size_t>(n));
    const size_t open = text.find('['), close = text.find(']');
    if (open != std::string::npos && close > open) netns = text.substr(open + 1, close - open - 1);
  }
  return absl::StrCat(netns, "-", BuildId().substr(0, 16));
}

absl::StatusOr<ControlMessage> Ask(HostConnection& c, const ControlMessage& request);

// The other hosts in the directory (other builds, other namespaces), each
// asked for its list: for --list, and for errors about sessions not found.
struct OtherHost {
  std::string pid, build, json, table, summary;
  std::string where;  // "of another moshx build (X)" / "in another network namespace"
};
std::vector<OtherHost> OtherHosts(const std::string& dir, const std::string& own) {
  std::vector<OtherHost> out;
  for (const std::string& path : OtherHostSockets(dir, own)) {
    absl::StatusOr<sys::ScopedFd> fd = ConnectControlSocket(path);
    if (!fd.ok()) continue;  // stale (its host is gone)
    HostConnection c{*std::move(fd), {}};
    absl::StatusOr<ControlMessage> hello = Ask(c, {"hello", {Field("build", BuildId())}});
    if (!hello.ok()) continue;
    absl::StatusOr<ControlMessage> list = Ask(c, {"list", {}});
    if (!list.ok()) continue;
    OtherHost h;
    h.pid = FindField(*hello, "pid").value_or("?");
    h.build = FindField(*hello, "build").value_or("?");
    h.json = FindField(*list, "json").value_or("{\"sessions\":[]}");
    h.table = FindField(*list, "table").value_or("");
    h.summary = FindField(*list, "summary").value_or("");
    h.where = h.build == BuildId() ? "in another network namespace"
                                   : absl::StrCat("of another moshx build (", h.build, ")");
    out.push_back(std::move(h));
  }
  return out;
}

// "; also: sessions 1 (work) in the session host pid 77 of build X ..."
std::string OtherHostsNote(const std::vector<OtherHost>& others) {
  std::string out;
  for (const OtherHost& h : others) {
    absl::StrAppend(&out, "; sessions ", h.summary, " belong to a session host ", h.where,
                    " (pid ", h.pid, "): use that moshx for them, or end them all with kill ",
                    h.pid);
  }
  return out;
}

// Connects to the user's host, starting one if none answers (not for the
// requests that only look at existing sessions: then nullopt).
absl::StatusOr<std::optional<HostConnection>> ConnectHost(const ServeOptions& o,
                                                          bool may_start) {
  const std::string dir = ControlDirectory(o.xdg_runtime_dir, getuid());
  if (absl::Status s = EnsurePrivateDirectory(dir, getuid()); !s.ok()) return s;
  const std::string path = ControlSocketPath(dir, HostTag());
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<sys::ScopedFd> fd = ConnectControlSocket(path);
    if (absl::IsNotFound(fd.status())) {
      if (!may_start) return std::optional<HostConnection>();
      const std::string lock_path = ControlLockPath(dir, HostTag());
      absl::StatusOr<sys::ScopedFd> lock = LockFile(lock_path, absl::Seconds(10));
      if (!lock.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "a session host holds ", lock_path, " but does not answer on ", path,
            " (", lock.status().message(), ")"));
      }
      fd = ConnectControlSocket(path);  // another serve may have started one meanwhile
      if (absl::IsNotFound(fd.status())) {
        if (absl::Status s = StartHost(o, path, *std::move(lock)); !s.ok()) return s;
        fd = ConnectControlSocket(path);
      }
    }
    if (!fd.ok()) return fd.status();
    HostConnection c{*std::move(fd), {}};
    absl::Status s = SendControlMessage(c.fd.get(), {"hello", {Field("build", BuildId())}});
    absl::StatusOr<ReceivedMessage> hello =
        s.ok() ? ReceiveControlMessage(c.fd.get(), kHostAnswerTimeout)
               : absl::StatusOr<ReceivedMessage>(s);
    if (hello.ok() && ReplyStatus(hello->message).ok()) {
      c.hello = hello->message;
      return std::optional<HostConnection>(std::move(c));
    }
    // The host is exiting (or went away): wait for it, then try again.
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::UnavailableError("the session host keeps going away; try again");
}

absl::StatusOr<ControlMessage> Ask(HostConnection& c, const ControlMessage& request) {
  if (absl::Status s = SendControlMessage(c.fd.get(), request); !s.ok()) return s;
  absl::StatusOr<ReceivedMessage> reply = ReceiveControlMessage(c.fd.get(), kHostAnswerTimeout);
  if (!reply.ok()) {
    return absl::UnavailableError(
        absl::StrCat("no answer from the session host: ", reply.status().message()));
  }
  if (absl::Status s = ReplyStatus(reply->message); !s.ok()) return s;
  return reply->message;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "moshx serve: %s\n", std::string(status.message()).c_str());
  return 1;
}

// Prints a new/attach answer: CONNECT, SESSION and DETACHED lines, JSON;
// sets `*port` to the session's UDP port.
int PrintConnect(const ServeOptions& o, const ControlMessage& reply, const char* event,
                 uint16_t* port_out) {
  ConnectInfo info;
  info.mode = net::WireMode::kMoshx;
  int port = 0;
  absl::StatusOr<net::SessionKey> key =
      net::SessionKey::FromBase64(FindField(reply, "key").value_or(""));
  if (!absl::SimpleAtoi(FindField(reply, "port").value_or(""), &port) || !key.ok() ||
      !absl::SimpleHexAtoi(FindField(reply, "connection_id").value_or(""),
                           &info.connection_id)) {
    return Fail(absl::InternalError("malformed answer from the session host"));
  }
  info.port = static_cast<uint16_t>(port);
  *port_out = info.port;
  info.key = *key;
  const std::string id = FindField(reply, "id").value_or("");
  const std::string name = FindField(reply, "name").value_or("");
  std::printf("%s\n", FormatConnectLine(info).c_str());
  std::printf("MOSHX SESSION %s %s\n", id.c_str(), name.empty() ? "-" : name.c_str());
  std::vector<std::string> detached_text, detached_json;
  for (const std::string& d : FindFields(reply, "detached")) {
    const size_t colon = d.find(':');
    const std::string did = d.substr(0, colon);
    const std::string dname = colon == std::string::npos ? "" : d.substr(colon + 1);
    detached_text.push_back(dname.empty() ? did : absl::StrCat(did, " (", dname, ")"));
    detached_json.push_back(absl::StrCat("{\"id\":", did, ",\"name\":",
                                         dname.empty() ? "null" : JsonQuote(dname), "}"));
  }
  if (!detached_text.empty()) {
    std::printf("MOSHX DETACHED %s\n", absl::StrJoin(detached_text, ", ").c_str());
  }
  if (o.json) {
    std::printf(
        "{\"event\":\"%s\",\"mode\":\"moshx\",\"port\":%d,\"key\":\"%s\","
        "\"connection_id\":\"%016llx\",\"pid\":%s,\"session_id\":%s,\"session_name\":%s,"
        "\"host_pid\":%s,\"detached\":[%s]}\n",
        event, port, info.key.ToBase64().c_str(),
        static_cast<unsigned long long>(info.connection_id),
        FindField(reply, "pid").value_or("0").c_str(), id.c_str(),
        name.empty() ? "null" : JsonQuote(name).c_str(),
        FindField(reply, "host_pid").value_or("0").c_str(),
        absl::StrJoin(detached_json, ",").c_str());
  }
  std::fflush(stdout);
  return 0;
}

// --list: this host's sessions, then those of other hosts in the directory.
int PrintList(const ServeOptions& o, HostConnection* c, const std::vector<OtherHost>& others) {
  std::string json = "{\"sessions\":[]}";
  std::string table = "no sessions\n";
  if (c != nullptr) {
    absl::StatusOr<ControlMessage> reply = Ask(*c, {"list", {}});
    if (!reply.ok()) return Fail(reply.status());
    json = FindField(*reply, "json").value_or(json);
    table = FindField(*reply, "table").value_or(table);
    // The host's counters (docs/sessions.md §2) after the sessions.
    if (std::optional<std::string> stats = FindField(*reply, "stats");
        stats.has_value() && absl::EndsWith(json, "}")) {
      json = absl::StrCat(json.substr(0, json.size() - 1), ",\"host\":", *stats, "}");
    }
    // Which UDP port the sessions use: the router's, or the host's own.
    const std::string port = FindField(*reply, "port").value_or("0");
    const std::string router = FindField(*reply, "router").value_or("");
    if (absl::EndsWith(json, "}") && port.find_first_not_of("0123456789") == std::string::npos) {
      json = absl::StrCat(json.substr(0, json.size() - 1), ",\"port\":", port,
                          ",\"router\":", router.empty() ? "null" : JsonQuote(router), "}");
    }
    absl::StrAppend(&table, "UDP port ", port,
                    router.empty() ? " (the session host's own; no moshx router)"
                                   : absl::StrCat(" (moshx router at ", router, ")"),
                    "\n");
  }
  constexpr absl::string_view kPrefix = "{\"sessions\":";
  std::vector<std::string> other_json;
  for (const OtherHost& h : others) {
    if (!absl::StartsWith(h.json, kPrefix) || h.json.size() <= kPrefix.size()) continue;
    other_json.push_back(absl::StrCat(
        "{\"pid\":", h.pid, ",\"build\":", JsonQuote(h.build), ",\"sessions\":",
        h.json.substr(kPrefix.size(), h.json.size() - kPrefix.size() - 1), "}"));
    absl::StrAppend(&table, "\nsessions of a session host ", h.where, " (pid ", h.pid,
                    "; use that moshx for them, or end them all with kill ", h.pid, "):\n",
                    h.table);
  }
  if (o.json) {
    if (!other_json.empty()) {
      json = absl::StrCat(json.substr(0, json.size() - 1), ",\"other_hosts\":[",
                          absl::StrJoin(other_json, ","), "]}");
    }
    std::printf("%s\n", json.c_str());
  } else {
    std::printf("%s", table.c_str());
  }
  return 0;
}

int RunViaHost(const ServeOptions& o, uint16_t* port) {
  const bool looks_only = o.list || o.kill.has_value() || o.attach.has_value();
  absl::StatusOr<std::optional<HostConnection>> connection = ConnectHost(o, !looks_only);
  if (!connection.ok()) return Fail(connection.status());
  std::vector<OtherHost> others;
  if (looks_only) {
    const std::string dir = ControlDirectory(o.xdg_runtime_dir, getuid());
    others = OtherHosts(dir, ControlSocketPath(dir, HostTag()));
  }
  if (o.list) return PrintList(o, connection->has_value() ? &**connection : nullptr, others);
  if (!connection->has_value()) {  // no host of this build runs: no sessions
    const std::string target = o.kill.value_or(o.attach.value_or(""));
    return Fail(absl::NotFoundError(
        absl::StrCat(target.empty() ? "no detached session; sessions: none"
                                    : absl::StrCat("no session '", target, "'; sessions: none"),
                     OtherHostsNote(others))));
  }
  HostConnection& c = **connection;
  auto fail = [&others](const absl::Status& s) {
    if (!absl::IsNotFound(s)) return Fail(s);
    return Fail(absl::NotFoundError(absl::StrCat(s.message(), OtherHostsNote(others))));
  };
  if (o.kill.has_value()) {
    absl::StatusOr<ControlMessage> reply = Ask(c, {"kill", {Field("target", *o.kill)}});
    if (!reply.ok()) return fail(reply.status());
    const std::string id = FindField(*reply, "id").value_or("");
    const std::string name = FindField(*reply, "name").value_or("");
    if (o.json) {
      std::printf("{\"event\":\"killed\",\"session_id\":%s,\"session_name\":%s}\n", id.c_str(),
                  name.empty() ? "null" : JsonQuote(name).c_str());
    } else {
      std::printf("killed session %s%s\n", id.c_str(),
                  name.empty() ? "" : absl::StrCat(" (", name, ")").c_str());
    }
    return 0;
  }
  if (o.attach.has_value()) {
    absl::StatusOr<ControlMessage> reply =
        Ask(c, {"attach",
                {Field("target", *o.attach), Field("client", o.client_hint),
                 Field("history", absl::StrCat(o.history))}});
    if (!reply.ok()) return fail(reply.status());
    return PrintConnect(o, *reply, "attach", port);
  }
  ControlMessage request{"new",
                         {Field("name", o.name), Field("width", "80"), Field("height", "24"),
                          Field("term", o.term), Field("home", o.home), Field("shell", o.shell),
                          Field("network_timeout_ms",
                                absl::StrCat(absl::ToInt64Milliseconds(o.network_timeout))),
                          Field("signal_timeout_ms",
                                absl::StrCat(absl::ToInt64Milliseconds(o.signal_timeout))),
                          Field("scrollback_lines", absl::StrCat(o.scrollback_lines)),
                          Field("client", o.client_hint),
                          Field("verbose", absl::StrCat(o.verbose))}};
  for (const std::string& e : o.inherited_environment) request.fields.push_back(Field("env", e));
  for (const std::string& e : SessionEnvironment(o)) request.fields.push_back(Field("env", e));
  for (const std::string& a : o.command) request.fields.push_back(Field("arg", a));
  absl::StatusOr<ControlMessage> reply = Ask(c, request);
  if (!reply.ok()) return Fail(reply.status());
  return PrintConnect(o, *reply, "connect", port);
}

// The line `serve --ssh-bridge` prints after the CONNECT lines, when the
// bridge is ready: from then on stdout carries frames (docs/ssh-path.md).
constexpr char kBridgeLine[] = "MOSHX BRIDGE";

// --ssh-bridge: carries the datagrams of the session on UDP `port` between
// stdin/stdout (the SSH channel) and a loopback socket until the client
// closes the channel (docs/ssh-path.md). Returns the exit status.
int RunSshBridge(const ServeOptions& o, uint16_t port) {
  // The session listens on --bind; the wildcard is reached on loopback.
  std::string ip = o.bind_address;
  if (ip == "0.0.0.0") ip = "127.0.0.1";
  if (ip == "::") ip = "::1";
  absl::StatusOr<net::Address> session = net::Address::Parse(ip, port);
  if (!session.ok()) return Fail(session.status());
  auto runtime = sys::ProcessRuntime::Create();
  if (!runtime.ok()) return Fail(runtime.status());
  net::EventLoop* loop = (*runtime)->loop();
  auto socket = net::UdpSocket::Bind(session->WithPort(0), net::PortRange{0, 0});
  if (!socket.ok()) return Fail(socket.status());
  std::printf("%s\n", kBridgeLine);
  std::fflush(stdout);
  auto stream = net::StreamPath::Create(loop, STDIN_FILENO, STDOUT_FILENO, /*peer_known=*/true);
  if (!stream.ok()) return Fail(stream.status());
  auto bridge = SshBridge::Create(loop, *std::move(stream), *std::move(socket), *session);
  if (!bridge.ok()) return Fail(bridge.status());
  Log(o, absl::StrCat("bridging the SSH channel to ", session->ToString()));
  // RunOnce fails only when poll(2) does (ENOMEM): the next turn retries.
  while ((*bridge)->status().ok()) loop->RunOnce(absl::Seconds(60)).IgnoreError();
  const SshBridgeStats& st = (*bridge)->stats();
  Log(o, absl::StrCat("SSH channel closed (", (*bridge)->status().message(), "); ", st.to_session,
                      " datagrams to the session, ", st.to_stream, " back, ",
                      st.dropped_stream_full, " dropped on a full channel, ",
                      st.dropped_foreign, " from strangers dropped"));
  return 0;
}

}  // namespace

int RunServe(const ServeOptions& o) {
  sys::IgnoreHangupAndBrokenPipe();  // the SSH session ending must not end ours
  if (o.ssh_bridge_to != 0) return RunSshBridge(o, o.ssh_bridge_to);  // a reconnect
  // moshx mode goes through the user's session host; mosh mode, the
  // mosh-server personality and --foreground keep one process per session.
  if (o.mode == net::WireMode::kMoshx && !o.mosh_server && !o.foreground) {
    uint16_t port = 0;
    const int status = RunViaHost(o, &port);
    if (status != 0 || !o.ssh_bridge || port == 0) return status;
    return RunSshBridge(o, port);
  }
  std::vector<std::string> env = SessionEnvironment(o);
  auto socket = BindSocket(o);
  if (!socket.ok()) {
    std::fprintf(stderr, "moshx serve: %s\n", std::string(socket.status().message()).c_str());
    return 1;
  }
  net::RandBytesKeySource keys;
  auto key = keys.NewKey();
  if (!key.ok()) {
    std::fprintf(stderr, "moshx serve: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  ConnectInfo info;
  info.mode = o.mode;
  info.port = (*socket)->local_address().port();
  info.key = *key;
  if (o.mode == net::WireMode::kMoshx) {
    RAND_bytes(reinterpret_cast<uint8_t*>(&info.connection_id), sizeof(info.connection_id));
  }
  const sys::WindowSize initial = InitialSize(o);  // before Detach() closes stdin
  std::fflush(nullptr);
  pid_t pid = o.foreground ? getpid() : fork();
  if (pid < 0) {
    std::perror("moshx serve: fork");
    return 1;
  }
  if (pid > 0) {  // the foreground part: report and leave
    // mosh-server's bodge: typed-ahead echo must not share the CONNECT line.
    if (o.mosh_server && isatty(STDIN_FILENO)) std::printf("\r\n\n");
    std::printf("%s\n", FormatConnectLine(info).c_str());
    if (o.json) std::printf("%s\n", JsonLine(info, pid).c_str());
    std::fflush(stdout);
    if (!o.foreground && o.mosh_server) {  // mosh-server personality
      std::fprintf(stderr, "\nmosh-server (%s)\n\n[mosh-server detached, pid = %d]\n",
                   VersionLine().c_str(), static_cast<int>(pid));
      return 0;
    }
    if (!o.foreground) {
      std::fprintf(stderr, "[moshx serve detached, pid = %d]\n", static_cast<int>(pid));
      return o.ssh_bridge ? RunSshBridge(o, info.port) : 0;
    }
  } else {
    Detach(o);
  }
  return RunSession(o, *std::move(socket), info, std::move(env), initial);
}

}  // namespace moshx::cmd
