#include "cmd/server/serve.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/build_info.h"
#include "cmd/launch/connect_line.h"
#include "cmd/server/locale.h"
#include "cmd/server/server_session.h"
#include "cmd/sys/process.h"
#include "cmd/sys/pty.h"
#include "cmd/sys/tty.h"
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
  so.width = initial.cols;
  so.height = initial.rows;
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
  Log(o, absl::StrCat("session ended: ", s->exit_reason()));
  if (o.mosh_server) std::printf("\n[mosh-server is exiting.]\n");  // seen only with -v
  return 0;
}

}  // namespace

int RunServe(const ServeOptions& o) {
  sys::IgnoreHangupAndBrokenPipe();  // the SSH session ending must not end ours
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
      return 0;
    }
  } else {
    Detach(o);
  }
  return RunSession(o, *std::move(socket), info, std::move(env), initial);
}

}  // namespace moshx::cmd
