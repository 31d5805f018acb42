#include "cmd/connect.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmd/bootstrap.h"
#include "cmd/client_session.h"
#include "cmd/locale.h"
#include "cmd/mosh_compat.h"
#include "cmd/ssh.h"
#include "cmd/subprocess.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"
#include "net/udp_socket.h"
#include "openssl/rand.h"
#include "term/renderer.h"
#include "term/tty.h"

namespace moshx::cmd {
namespace {

// Restores the terminal if moshx dies of a fatal signal mid-session.
const char kEmergencyReset[] = "\033[?1l\033[0m\033[?25h\033[?1000l\033[?1002l\033[?1003l"
                               "\033[?1006l\033[?2004l\033[?1004l\033[?1049l\r\n";
void FatalSignalHandler(int signo) {
  term::ScopedRawMode::RestoreFromSignalHandler();
  (void)!write(STDOUT_FILENO, kEmergencyReset, sizeof(kEmergencyReset) - 1);
  signal(signo, SIG_DFL);
  raise(signo);
}

void WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(n);
  }
}

// The remote command line: the server command (split like a shell, so
// "env X=1 moshx" works), `serve`, the port, the locale, the user's command.
std::vector<std::string> ServeArguments(const ConnectOptions& o) {
  std::vector<std::string> args = {"serve"};
  if (o.port.has_value()) args.insert(args.end(), {"--port-range", *o.port});
  for (const std::string& name : LocaleVariableNames()) {
    const char* value = getenv(name.c_str());
    if (value != nullptr && *value != '\0') args.insert(args.end(), {"-l", name + "=" + value});
  }
  if (!o.command.empty()) {
    args.push_back("--");
    args.insert(args.end(), o.command.begin(), o.command.end());
  }
  return args;
}

// --- mosh interop (helper "interop"; cmd/mosh_compat.h) ---
// What a real mosh-server wants: the `mosh` wrapper's argv (spec §10.2), with
// this terminal's colour count (0 when terminfo does not know $TERM).
std::vector<std::string> MoshServerArgumentsFor(const ConnectOptions& o) {
  MoshServerRequest request;
  const char* term = getenv("TERM");
  std::map<std::string, std::string> env;
  for (const char* name : {"TERMINFO", "HOME", "TERMINFO_DIRS"}) {
    if (const char* value = getenv(name)) env[name] = value;
  }
  auto colors = TerminfoColors(term ? term : "", TerminfoDirectories(env));
  request.colors = colors.ok() && *colors > 0 ? *colors : 0;
  request.port = o.port;
  for (const std::string& name : LocaleVariableNames()) {
    const char* value = getenv(name.c_str());
    if (value != nullptr && *value != '\0') request.locale.emplace_back(name, value);
  }
  request.command = o.command;
  return MoshServerArguments(request);
}
// --- end mosh interop ---

// The host ssh will really connect to, after ~/.ssh/config (`ssh -G`).
std::string SshHostName(const std::vector<std::string>& ssh_words, const std::string& dest) {
  std::vector<std::string> argv = ssh_words;
  argv.insert(argv.end(), {"-G", dest});
  auto result = RunAndCapture(argv, {}, absl::Seconds(10));
  std::string host = dest.substr(dest.find('@') == std::string::npos ? 0 : dest.find('@') + 1);
  if (!result.ok() || result->exit_code != 0) return host;
  for (absl::string_view line : absl::StrSplit(result->out, '\n')) {
    if (absl::ConsumePrefix(&line, "hostname ")) return std::string(line);
  }
  return host;
}

absl::StatusOr<net::Address> Resolve(const std::string& host, const std::string& family) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = family == "inet" ? AF_INET : family == "inet6" ? AF_INET6 : AF_UNSPEC;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat("cannot resolve '", host, "': ", gai_strerror(rc)));
  }
  const addrinfo* pick = nullptr;
  int preferred = family == "prefer-inet6" ? AF_INET6 : AF_INET;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (pick == nullptr || (a->ai_family == preferred && pick->ai_family != preferred)) pick = a;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  const void* raw = pick->ai_family == AF_INET
                        ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(pick->ai_addr)->sin_addr)
                        : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(pick->ai_addr)->sin6_addr);
  inet_ntop(pick->ai_family, raw, text, sizeof(text));
  freeaddrinfo(found);
  return net::Address::Parse(text, 0);
}

std::string Indent(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, "  ", l, "\n");
  return out;
}

absl::StatusOr<ServerEndpoint> StartLocal(const ConnectOptions& o) {
  std::vector<std::string> argv = {"/proc/self/exe"};
  std::vector<std::string> args = ServeArguments(o);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.begin() + 2, {"--bind", "127.0.0.1"});
  auto result = RunAndCapture(argv, {}, absl::Seconds(20));
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("could not start the local server: ",
                                               result.status().message()));
  }
  StartupOutput scan = ScanStartupOutput(result->out);
  if (!scan.connect.ok()) {
    return absl::UnavailableError(absl::StrCat("the local server did not start (exit ",
                                               result->exit_code, "):\n", result->err));
  }
  ServerEndpoint endpoint{*scan.connect, *net::Address::Parse("127.0.0.1", scan.connect->port)};
  return endpoint;
}

absl::StatusOr<ServerEndpoint> StartRemote(const ConnectOptions& o) {
  auto ssh_words = SplitCommandLine(o.ssh);
  if (!ssh_words.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--ssh: ", ssh_words.status().message()));
  }
  auto server_words = SplitCommandLine(o.server);
  if (!server_words.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", server_words.status().message()));
  }
  std::string host_name = SshHostName(*ssh_words, o.destination);
  auto ip = Resolve(host_name, o.family);
  if (!ip.ok()) return ip.status();
  std::vector<std::string> remote = *server_words;
  std::vector<std::string> args = IsMoshServerCommand(*server_words)  // mosh interop
                                      ? MoshServerArgumentsFor(o)
                                      : ServeArguments(o);
  remote.insert(remote.end(), args.begin(), args.end());
  auto result = RunAndCapture(BuildSshArgv(*ssh_words, o.destination, remote));
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("could not run ssh: ", result.status().message()));
  }
  StartupOutput scan = ScanStartupOutput(result->out);
  std::vector<std::string> err_lines;
  for (absl::string_view l : absl::StrSplit(result->err, '\n', absl::SkipWhitespace())) {
    err_lines.emplace_back(absl::StripTrailingAsciiWhitespace(l));
  }
  if (scan.connect.ok()) {
    ServerEndpoint endpoint{*scan.connect, ip->WithPort(scan.connect->port)};
    return endpoint;
  }
  if (result->exit_code == 255) {
    return absl::UnavailableError(
        absl::StrCat("ssh to ", o.destination, " failed:\n", Indent(err_lines)));
  }
  std::string all = absl::StrCat(result->out, result->err);
  if (result->exit_code == 127 || absl::StrContains(all, "not found") ||
      absl::StrContains(all, "No such file")) {
    return absl::NotFoundError(absl::StrCat(
        "'", o.server, "' is not installed on ", o.destination, ":\n", Indent(err_lines),
        "Install it there (no root needed) with:  moshx bootstrap ", o.destination,
        "\nor name its path with --server=PATH."));
  }
  std::vector<std::string> lines = scan.other_lines;
  lines.insert(lines.end(), err_lines.begin(), err_lines.end());
  return absl::UnavailableError(absl::StrCat(
      "the server on ", o.destination, " did not start (no CONNECT line; exit status ",
      result->exit_code, "). It said:\n", Indent(lines)));
}

// The client loop on a real terminal.
int RunClient(const ConnectOptions& o, const ServerEndpoint& endpoint) {
  auto raw = term::ScopedRawMode::Enter(STDIN_FILENO);
  if (!raw.ok()) {
    std::fprintf(stderr, "moshx: cannot use this terminal: %s\n",
                 std::string(raw.status().message()).c_str());
    return 1;
  }
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(s, FatalSignalHandler);
  term::WindowSize size = term::GetWindowSize(STDIN_FILENO).value_or(term::WindowSize{});
  net::SystemClock clock;
  auto loop = net::PollEventLoop::Create(&clock);
  auto socket = net::UdpSocket::OpenEphemeral(endpoint.address.family());
  if (!loop.ok() || !socket.ok()) {
    raw->reset();
    std::fprintf(stderr, "moshx: %s\n",
                 std::string((!loop.ok() ? loop.status() : socket.status()).message()).c_str());
    return 1;
  }
  uint64_t seed = 0;
  RAND_bytes(reinterpret_cast<uint8_t*>(&seed), sizeof(seed));
  std::mt19937_64 rng(seed);
  net::UdpSocketFactory factory;
  term::Renderer::Options render_options;
  // mosh-client's MOSH_NO_TERM_INIT (set by `mosh --no-init`): no alternate screen.
  render_options.alternate_screen = getenv("MOSH_NO_TERM_INIT") == nullptr;
  term::Renderer renderer(render_options);
  WriteAll(STDOUT_FILENO, renderer.Open());
  ClientSessionOptions co;
  co.mode = endpoint.info.mode;
  co.connection_id = endpoint.info.connection_id;
  co.server = endpoint.address;
  co.width = size.cols;
  co.height = size.rows;
  const char* escape = getenv("MOSH_ESCAPE_KEY");
  co.escape = EscapeKeyConfig::FromEnvironment(
      escape ? std::optional<absl::string_view>(escape) : std::nullopt);
  co.predict = o.predict;
  co.predict_overwrite = o.predict_overwrite;
  co.title_prefix = o.title_prefix;
  auto session = ClientSession::Create(
      {loop->get(), &clock, *std::move(socket), &factory, absl::BitGenRef(rng)},
      endpoint.info.key, co, [&renderer](const core::Framebuffer& frame, bool full) {
        if (full) renderer.Invalidate();
        WriteAll(STDOUT_FILENO, renderer.Draw(frame));
      });
  if (!session.ok()) {
    WriteAll(STDOUT_FILENO, renderer.Close());
    raw->reset();
    std::fprintf(stderr, "moshx: %s\n", std::string(session.status().message()).c_str());
    return 1;
  }
  ClientSession* s = session->get();
  (void)(*loop)->WatchFd(STDIN_FILENO, net::EventLoop::kReadable, [&](uint32_t) {
    char buffer[16384];
    ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n > 0) {
      s->HandleInput(absl::string_view(buffer, n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      (*loop)->UnwatchFd(STDIN_FILENO);
      s->HandleInputClosed();
    }
  });
  (void)(*loop)->WatchSignal(SIGWINCH, [&] {
    auto ws = term::GetWindowSize(STDIN_FILENO);
    if (ws.ok()) s->HandleResize(ws->cols, ws->rows);
  });
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) {
    (void)(*loop)->WatchSignal(signo, [s] { s->HandleTerminateSignal(); });
  }
  (void)(*loop)->WatchSignal(SIGCONT, [&] {
    (void)(*raw)->Resume();
    WriteAll(STDOUT_FILENO, renderer.Open());
    s->RequestRepaint();
  });
  while (!s->done()) {
    (void)(*loop)->RunOnce(s->WaitTime());
    s->Service();
    if (s->TakeSuspendRequest()) {
      WriteAll(STDOUT_FILENO, renderer.Close());
      (void)(*raw)->Suspend();
      WriteAll(STDOUT_FILENO, "\n\033[37;44m[moshx is suspended.]\033[m\n");
      kill(0, SIGSTOP);
      (void)(*raw)->Resume();
      WriteAll(STDOUT_FILENO, renderer.Open());
      s->RequestRepaint();
    }
  }
  WriteAll(STDOUT_FILENO, renderer.Close());
  raw->reset();
  const std::string where = endpoint.address.ToString();
  if (!s->connected()) {
    std::fprintf(stderr,
                 "moshx did not make a successful connection to %s.\n"
                 "Nothing was received from the server on UDP port %d: please verify that it is "
                 "not firewalled\nand can reach the server (e.g. on the server: "
                 "sudo ufw allow 60001:60999/udp, or choose a port with -p).\n",
                 where.c_str(), endpoint.info.port);
    return 1;
  }
  if (!s->clean()) {
    std::fprintf(stderr,
                 "moshx did not shut down cleanly. Please note that the moshx server process "
                 "may still be running on the server.\n");
    return 1;
  }
  return 0;
}

}  // namespace

absl::StatusOr<ServerEndpoint> StartServer(const ConnectOptions& o) {
  if (o.local) return StartLocal(o);
  // --bootstrap (bootstrap helper): copy moshx over first when needed, then
  // run that copy (its directory is often not on a non-interactive PATH).
  auto server = ServerAfterBootstrap(o);
  if (!server.ok()) return server.status();
  ConnectOptions remote = o;
  remote.server = *server;
  return StartRemote(remote);
}

int RunDirectClient(const ClientOptions& c) {
  const char* key_text = getenv("MOSH_KEY");
  if (key_text == nullptr) {
    std::fprintf(stderr, "moshx client: MOSH_KEY environment variable not found.\n");
    return 1;
  }
  auto key = net::SessionKey::FromBase64(key_text);
  unsetenv("MOSH_KEY");  // children must not inherit it
  if (!key.ok()) {
    std::fprintf(stderr, "moshx client: bad MOSH_KEY: %s\n",
                 std::string(key.status().message()).c_str());
    return 1;
  }
  auto address = net::Address::Parse(c.ip, c.port);
  if (!address.ok()) {
    std::fprintf(stderr, "moshx client: %s is not a numeric IP address\n", c.ip.c_str());
    return 1;
  }
  if (!term::IsTty(STDIN_FILENO) || !term::IsTty(STDOUT_FILENO)) {
    std::fprintf(stderr, "moshx client: standard input and output must be a terminal\n");
    return 1;
  }
  ServerEndpoint endpoint;
  endpoint.info.mode = c.mode;
  endpoint.info.port = c.port;
  endpoint.info.key = *key;
  endpoint.info.connection_id = c.connection_id;
  endpoint.address = *address;
  ConnectOptions o;
  o.predict = c.predict;
  o.predict_overwrite = c.predict_overwrite;
  o.title_prefix = c.title_prefix;
  return RunClient(o, endpoint);
}

int RunConnect(const ConnectOptions& o) {
  if (!term::IsTty(STDIN_FILENO) || !term::IsTty(STDOUT_FILENO)) {
    std::fprintf(stderr, "moshx connect: standard input and output must be a terminal\n");
    return 1;
  }
  auto endpoint = StartServer(o);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "moshx: %s\n", std::string(endpoint.status().message()).c_str());
    return 1;
  }
  return RunClient(o, *endpoint);
}

}  // namespace moshx::cmd
