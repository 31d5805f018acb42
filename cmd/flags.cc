#include "cmd/flags.h"

#include <memory>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cmd/build_info.h"
#include "cmd/env.h"
#include "cmd/port_range.h"

namespace moshx::cmd {
namespace {

constexpr char kDescription[] =
    "moshx: a mobile shell. Log in over SSH, then keep a remote terminal alive over an\n"
    "encrypted UDP State Synchronization Protocol that survives roaming, sleep and loss.\n"
    "Speaks mosh 1.4's wire protocol too.";

constexpr char kHint[] = "run 'moshx --help' for usage";

// Everything CLI11 writes into, before validation.
struct RawFlags {
  std::string port_range = "60001:60999";
  std::string bind = "0.0.0.0";
  std::vector<std::string> locale;
  bool json = false;
  std::string mode = "moshx";
  std::optional<int64_t> network_timeout, signal_timeout;
  bool foreground = false;
  int64_t scrollback = 10000;
  int serve_verbose = 0;
  std::vector<std::string> serve_command;
  std::string serve_name;
  std::string serve_router = "/run/moshx/router.sock";
  bool serve_list = false;
  std::optional<std::string> serve_kill, serve_attach;
  std::optional<int64_t> serve_history;  // serve --attach --history N

  std::string destination;
  bool local = false;
  std::string ssh = "ssh";
  std::string server = "moshx";
  std::string port;
  std::string family = "prefer-inet";
  std::string predict;
  bool predict_overwrite = false;
  std::string title_prefix;
  int connect_verbose = 0;
  std::vector<std::string> connect_command;
  std::vector<std::string> local_forwards, remote_forwards, dynamic_forwards;
  bool agent = false;

  std::string client_ip;
  std::string client_port;
  std::string client_mode = "moshx";
  std::string client_connection_id;

  std::optional<std::string> attach;    // connect --attach [ID|NAME]
  std::optional<int64_t> history;       // connect --history N
  std::string name;                     // connect --name NAME
  SessionsOptions sessions;             // `moshx ls`, `moshx kill`

  std::string bootstrap_mode = "auto";  // connect --bootstrap
  std::string transport = "auto";       // connect --transport
  bool ssh_bridge = false;              // serve --ssh-bridge
  int ssh_bridge_to = 0;                // serve --ssh-bridge-to
  BootstrapOptions bootstrap;           // `moshx bootstrap`

  RouterOptions router;                 // `moshx router`
  std::string router_port = "60001";
};

struct App {
  std::unique_ptr<CLI::App> app;
  CLI::App* serve = nullptr;
  CLI::App* connect = nullptr;
  CLI::App* client = nullptr;
  CLI::App* bootstrap = nullptr;
  CLI::App* router = nullptr;
  CLI::App* ls = nullptr;
  CLI::App* kill = nullptr;
};

// `moshx ls` and `moshx kill` (docs/sessions.md): the remote's sessions.
void AddSessionCommands(CLI::App& app, RawFlags* f, App* a) {
  a->ls = app.add_subcommand("ls", "List your moshx sessions on [user@]host (over ssh)");
  a->kill = app.add_subcommand("kill", "End your moshx session ID|NAME on [user@]host (over ssh)");
  for (CLI::App* sub : {a->ls, a->kill}) {
    sub->add_option("destination", f->sessions.destination, "[user@]host, as given to ssh")
        ->required();
    if (sub == a->kill) {
      sub->add_option("session", f->sessions.target, "The session's id or name")->required();
    }
    sub->add_option("--ssh", f->sessions.ssh, "SSH command to use (e.g. \"ssh -p 2222\")")
        ->capture_default_str();
    sub->add_option("--server", f->sessions.server, "Remote command that runs moshx")
        ->capture_default_str();
    sub->add_flag("--json", f->sessions.json, "Print the remote's answer as JSON");
  }
}

// `moshx router` (docs/router.md).
CLI::App* AddRouter(CLI::App& app, RawFlags* f) {
  CLI::App* r = app.add_subcommand(
      "router",
      "Share one UDP port among every user's moshx sessions: forward datagrams, still "
      "encrypted, to each user's session host by connection id (start as root)");
  r->add_option("-p,--port", f->router_port, "UDP port to listen on")->capture_default_str();
  r->add_option("-i,--bind", f->router.bind, "Numeric IP address to bind")
      ->capture_default_str();
  r->add_option("--socket", f->router.socket_path, "Unix socket where session hosts register")
      ->capture_default_str();
  r->add_option("--user", f->router.user,
                "Account to run as after binding (default: moshx-router, else nobody)");
  r->add_option("--max-sessions", f->router.max_sessions, "Connection ids held in all")
      ->capture_default_str();
  r->add_option("--max-sessions-per-user", f->router.max_sessions_per_user,
                "Connection ids held per user")
      ->capture_default_str();
  r->add_flag("-v,--verbose", f->router.verbose, "Print counters on stderr once a minute");
  return r;
}

// `moshx bootstrap` (bootstrap helper).
CLI::App* AddBootstrap(CLI::App& app, RawFlags* f) {
  CLI::App* b = app.add_subcommand(
      "bootstrap",
      "Copy moshx (this binary, or the build for the remote's architecture) to [user@]host "
      "over SSH (no root needed), unless it is there");
  b->add_option("destination", f->bootstrap.destination, "[user@]host, as given to ssh")
      ->required();
  b->add_option("--ssh", f->bootstrap.ssh, "SSH command to use (e.g. \"ssh -p 2222\")")
      ->capture_default_str();
  b->add_option("--dest", f->bootstrap.dest_path,
                "Where to put moshx on the remote (~/ or relative: the remote home)")
      ->capture_default_str();
  b->add_flag("--force", f->bootstrap.force, "Upload even when the same build is there");
  b->add_flag("--json", f->bootstrap.json, "Print one JSON line describing what was done");
  return b;
}

App BuildApp(RawFlags* f) {
  App a;
  a.app = std::make_unique<CLI::App>(kDescription, "moshx");
  CLI::App& app = *a.app;
  app.set_version_flag("--version", VersionLine(), "Print the version and build id, then exit");
  app.set_help_flag("-h,--help", "Print this help, then exit");
  app.require_subcommand(0, 1);

  CLI::App* serve = app.add_subcommand(
      "serve",
      "Start a session (moshx mode: in the user's session host): print a CONNECT line, detach");
  serve->add_option("--port-range,-p", f->port_range,
                    "UDP port or range to bind, first free one wins (PORT or LOW:HIGH)")
      ->capture_default_str();
  serve->add_option("--bind,-i", f->bind, "Local IP address to bind (numeric)")
      ->capture_default_str();
  serve->add_option("-l", f->locale, "NAME=VALUE for the session's environment (repeatable)")
      ->allow_extra_args(false);
  serve->add_flag("--json", f->json, "Also print one JSON line describing the session");
  serve->add_option("--mode", f->mode, "Wire protocol: moshx or mosh (for mosh clients)")
      ->check(CLI::IsMember({"moshx", "mosh"}))
      ->capture_default_str();
  serve->add_option("--network-timeout", f->network_timeout,
                    "End the session after SECONDS without client contact "
                    "(default: $MOSH_SERVER_NETWORK_TMOUT, else never)");
  serve->add_option("--signal-timeout", f->signal_timeout,
                    "SIGUSR1 ends the session only after SECONDS without contact "
                    "(default: $MOSH_SERVER_SIGNAL_TMOUT, else always)");
  serve->add_option("--name", f->serve_name, "Name the new session (letters, digits, . _ -)");
  serve->add_option("--router", f->serve_router,
                    "Socket of moshx router: a new session host uses the router's UDP port "
                    "when it answers there (\"none\": a port of its own)")
      ->capture_default_str();
  serve->add_flag("--list", f->serve_list, "List this user's sessions (a table, or JSON with --json)");
  serve->add_option("--kill", f->serve_kill, "End the session ID|NAME");
  serve->add_option("--attach", f->serve_attach,
                    "Attach to session ID|NAME (\"\": the most recently detached) with a new key");
  serve->add_option("--history", f->serve_history,
                    absl::StrCat("With --attach: the session's newest N history lines go to the "
                                 "new client first (default ",
                                 kDefaultAttachHistory, ", at most ", kMaxAttachHistory, ")"));
  serve->add_option("--scrollback", f->scrollback,
                    "Lines kept for the client's scrollback while the link is behind; "
                    "a flood of more than this per 0.2 s keeps its newest (moshx mode; 0 = off)")
      ->capture_default_str();
  serve->add_flag("--foreground", f->foreground,
                  "One process without the session host: do not detach; log to stderr");
  serve->add_flag("--ssh-bridge", f->ssh_bridge,
                  "After the CONNECT line, carry the session's datagrams over stdin/stdout "
                  "(for connect --transport ssh)");
  serve->add_option("--ssh-bridge-to", f->ssh_bridge_to,
                    "Start no session: only carry datagrams over stdin/stdout to the session on "
                    "UDP PORT of this host (connect's reconnect of a dropped SSH connection)")
      ->check(CLI::Range(1, 65535));
  serve->add_flag("-v,--verbose", f->serve_verbose, "Log session events to stderr");
  serve->add_option("command", f->serve_command,
                    "Command to run instead of the login shell (after --)");
  a.serve = serve;

  CLI::App* connect = app.add_subcommand(
      "connect", "Log in to [user@]host with ssh, start a server there, and attach to it");
  connect->add_option("destination", f->destination, "[user@]host, as given to ssh");
  connect->add_option("command", f->connect_command,
                      "Command to run instead of the login shell (after --)");
  connect->add_flag("--local", f->local,
                    "Start the server on this machine (loopback, no SSH); no destination");
  connect->add_option("--ssh", f->ssh, "SSH command to use (e.g. \"ssh -p 2222\")")
      ->capture_default_str();
  connect->add_option("--server", f->server, "Remote command that starts moshx (or mosh-server)")
      ->capture_default_str();
  connect->add_option("-p,--port", f->port, "Server-side UDP port or range (PORT or LOW:HIGH)");
  connect->add_option("--family", f->family, "Address family for the UDP connection")
      ->check(CLI::IsMember({"inet", "inet6", "auto", "all", "prefer-inet", "prefer-inet6"}))
      ->capture_default_str();
  connect->add_option("--predict", f->predict,
                      "Local echo: adaptive, always, never or experimental "
                      "(default: $MOSH_PREDICTION_DISPLAY, else adaptive)")
      ->check(CLI::IsMember({"adaptive", "always", "never", "experimental"}));
  connect->add_flag("--predict-overwrite", f->predict_overwrite,
                    "Predicted characters overwrite instead of insert");
  connect->add_option("--title-prefix", f->title_prefix, "Text put before window titles");
  connect->add_flag("-v,--verbose", f->connect_verbose, "Print what moshx does to stderr");
  connect->add_option("-L", f->local_forwards,
                      "[bind:]port:host:hostport: forward a local TCP port to host:hostport as "
                      "seen from the server (repeatable)")
      ->allow_extra_args(false);
  connect->add_option("-R", f->remote_forwards,
                      "[bind:]port:host:hostport: forward a server TCP port to host:hostport as "
                      "seen from here (repeatable)")
      ->allow_extra_args(false);
  connect->add_option("-D", f->dynamic_forwards,
                      "[bind:]port: a local SOCKS5 proxy whose connections leave from the "
                      "server (repeatable)")
      ->allow_extra_args(false);
  connect->add_flag("-A", f->agent,
                    "Forward the ssh agent ($SSH_AUTH_SOCK): the session's SSH_AUTH_SOCK "
                    "reaches it");
  connect->add_option("--bootstrap", f->bootstrap_mode,
                      "Copy moshx to the remote first: auto (when missing or another build), "
                      "always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  connect->add_option("--transport", f->transport,
                      "How the session travels: udp, ssh (over the SSH connection, for networks "
                      "that block UDP) or auto (UDP, over SSH while UDP fails)")
      ->check(CLI::IsMember({"auto", "udp", "ssh"}))
      ->capture_default_str();
  connect->add_option("--attach", f->attach,
                      "Attach to your detached session ID|NAME there (no value: the most "
                      "recently detached) instead of starting one")
      ->expected(0, 1);
  connect->add_option("--history", f->history,
                      absl::StrCat("With --attach or --name: the session's newest N lines go "
                                   "into your terminal's scrollback first (moshx mode; default ",
                                   kDefaultAttachHistory, ", at most ", kMaxAttachHistory,
                                   ", 0 = none)"));
  connect->add_option("--name", f->name,
                      "Attach to the session named NAME if it exists, else start it with "
                      "that name");
  a.connect = connect;

  CLI::App* client = app.add_subcommand(
      "client", "Attach to a running server at IP PORT (key in $MOSH_KEY, like mosh-client)");
  client->add_option("ip", f->client_ip, "Server IP address (numeric)")->required();
  client->add_option("port", f->client_port, "Server UDP port")->required();
  client->add_option("--mode", f->client_mode, "Wire protocol: moshx or mosh")
      ->check(CLI::IsMember({"moshx", "mosh"}))
      ->capture_default_str();
  client->add_option("--connection-id", f->client_connection_id,
                     "The 16 hex digits of the MOSHX CONNECT line (moshx mode)");
  client->add_option("--predict", f->predict, "Local echo: adaptive, always, never, experimental")
      ->check(CLI::IsMember({"adaptive", "always", "never", "experimental"}));
  client->add_option("--title-prefix", f->title_prefix, "Text put before window titles");
  a.client = client;
  a.bootstrap = AddBootstrap(app, f);
  a.router = AddRouter(app, f);
  AddSessionCommands(app, f, &a);
  return a;
}

ParsedCommandLine Exit(int code, std::string out, std::string err) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kExit;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

ParsedCommandLine UsageError(absl::string_view message) {
  return Exit(2, "", absl::StrCat("moshx: ", message, "; ", kHint, "\n"));
}

// One line naming the first argument CLI11 could not place.
ParsedCommandLine UnexpectedArgument(const std::vector<std::string>& extras) {
  if (extras.empty()) return UsageError("unexpected arguments");
  const std::string& first = extras.front();
  const char* what = absl::StartsWith(first, "-") ? "unknown option" : "unknown command";
  return UsageError(absl::StrCat(what, " '", first, "'"));
}

// A timeout from a flag, else from the environment variable (mosh's rules).
absl::Duration Timeout(const std::optional<int64_t>& flag, const char* variable,
                       const std::map<std::string, std::string>& env,
                       std::vector<std::string>* warnings) {
  if (flag.has_value()) return absl::Seconds(std::max<int64_t>(0, *flag));
  return TimeoutFromEnvironment(env, variable, warnings);
}

// --predict, else MOSH_PREDICTION_DISPLAY, else adaptive.
absl::StatusOr<core::PredictionDisplay> ParsePredictionDisplay(
    const std::string& flag, const std::map<std::string, std::string>& env) {
  std::string predict = flag;
  if (predict.empty()) {
    auto it = env.find("MOSH_PREDICTION_DISPLAY");
    predict = it == env.end() || it->second.empty() ? "adaptive" : it->second;
  }
  std::optional<core::PredictionDisplay> display = PredictionDisplayNamed(predict);
  if (display.has_value()) return *display;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown prediction mode '", predict, "' (MOSH_PREDICTION_DISPLAY in environment)"));
}

ParsedCommandLine FinishServe(const RawFlags& f, const std::map<std::string, std::string>& env) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kServe;
  ServeOptions& o = r.serve;
  auto range = ParsePortRange(f.port_range);
  if (!range.ok()) return UsageError(absl::StrCat("--port-range: ", range.status().message()));
  o.port_range = *range;
  o.bind_address = f.bind;
  for (const std::string& assignment : f.locale) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(absl::StrCat("-l expects NAME=VALUE, got '", assignment, "'"));
    }
    o.environment.emplace_back(assignment.substr(0, eq), assignment.substr(eq + 1));
  }
  o.json = f.json;
  o.mode = f.mode == "mosh" ? net::WireMode::kMosh : net::WireMode::kMoshx;
  o.network_timeout = Timeout(f.network_timeout, "MOSH_SERVER_NETWORK_TMOUT", env, &r.warnings);
  o.signal_timeout = Timeout(f.signal_timeout, "MOSH_SERVER_SIGNAL_TMOUT", env, &r.warnings);
  o.foreground = f.foreground;
  if (f.scrollback < 0 || f.scrollback > kMaxScrollbackLines) {
    return UsageError(absl::StrCat("--scrollback: expected 0..", kMaxScrollbackLines, " lines, got ",
                                   f.scrollback));
  }
  o.scrollback_lines = static_cast<size_t>(f.scrollback);
  o.ssh_bridge = f.ssh_bridge;
  o.ssh_bridge_to = static_cast<uint16_t>(f.ssh_bridge_to);
  o.verbose = f.serve_verbose;
  o.command = f.serve_command;
  o.name = f.serve_name;
  o.router_socket = f.serve_router;
  if (o.router_socket.empty()) return UsageError("--router: a socket path, or none");
  o.list = f.serve_list;
  o.kill = f.serve_kill;
  o.attach = f.serve_attach;
  if (f.serve_history.has_value()) {
    if (!o.attach.has_value()) return UsageError("--history goes with --attach");
    if (*f.serve_history < 0 || *f.serve_history > kMaxAttachHistory) {
      return UsageError(absl::StrCat("--history: expected 0..", kMaxAttachHistory, " lines, got ",
                                     *f.serve_history));
    }
    o.history = *f.serve_history;
  }
  const int actions = (o.list ? 1 : 0) + (o.kill ? 1 : 0) + (o.attach ? 1 : 0);
  if (actions > 1) return UsageError("--list, --kill and --attach exclude each other");
  if ((actions > 0 || !o.name.empty()) &&
      (o.mode != net::WireMode::kMoshx || o.foreground)) {
    return UsageError(
        "--name, --list, --kill and --attach need the session host (moshx mode, no --foreground)");
  }
  if (o.ssh_bridge && (o.foreground || o.list || o.kill.has_value())) {
    return UsageError("--ssh-bridge carries a session's datagrams: not with --foreground, --list "
                      "or --kill");
  }
  if (o.ssh_bridge_to != 0 &&
      (o.ssh_bridge || o.foreground || actions > 0 || !o.name.empty() || !o.command.empty())) {
    return UsageError("--ssh-bridge-to starts no session: not with --ssh-bridge, --foreground, "
                      "--name, --list, --kill, --attach or a command");
  }
  SetServeEnvironment(env, &o);
  return r;
}

ParsedCommandLine FinishConnect(const RawFlags& f,
                                const std::map<std::string, std::string>& env) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kConnect;
  ConnectOptions& o = r.connect;
  o.local = f.local;
  o.destination = f.destination;
  o.command = f.connect_command;
  if (o.local && !o.destination.empty()) {
    // `moshx connect --local -- cmd`: CLI11 fills the destination first.
    o.command.insert(o.command.begin(), o.destination);
    o.destination.clear();
  }
  if (!o.local && o.destination.empty()) {
    return UsageError("connect needs a destination ([user@]host) or --local");
  }
  o.ssh = f.ssh;
  o.server = f.server;
  if (!f.port.empty()) {
    auto range = ParsePortRange(f.port);
    if (!range.ok()) return UsageError(absl::StrCat("--port: ", range.status().message()));
    o.port = f.port;
  }
  o.family = f.family;
  auto predict = ParsePredictionDisplay(f.predict, env);
  if (!predict.ok()) return UsageError(predict.status().message());
  o.terminal.predict = *predict;
  o.terminal.predict_overwrite =
      f.predict_overwrite || Lookup(env, "MOSH_PREDICTION_OVERWRITE") == "yes";
  o.terminal.title_prefix = f.title_prefix;
  SetTerminalEnvironment(env, &o.terminal);
  SetConnectEnvironment(env, &o);
  o.verbose = f.connect_verbose;
  for (const auto& [kind, texts] :
       {std::pair{forward::ForwardKind::kLocal, &f.local_forwards},
        std::pair{forward::ForwardKind::kRemote, &f.remote_forwards},
        std::pair{forward::ForwardKind::kDynamic, &f.dynamic_forwards}}) {
    for (const std::string& text : *texts) {
      auto spec = forward::ParseForwardSpec(kind, text);
      if (!spec.ok()) return UsageError(spec.status().message());
      o.forwarding.specs.push_back(*spec);
    }
  }
  o.forwarding.agent = f.agent;
  o.forwarding.agent_socket = Lookup(env, "SSH_AUTH_SOCK");
  if (o.forwarding.agent && o.forwarding.agent_socket.empty()) {
    r.warnings.push_back("-A: SSH_AUTH_SOCK is not set, so there is no agent to forward");
  }
  o.bootstrap = f.bootstrap_mode == "always"  ? BootstrapMode::kAlways
                : f.bootstrap_mode == "never" ? BootstrapMode::kNever
                                              : BootstrapMode::kAuto;
  o.bootstrap_data_dir = BootstrapDataDir(env);
  o.transport = f.transport == "ssh"   ? Transport::kSsh
                : f.transport == "udp" ? Transport::kUdp
                                       : Transport::kAuto;
  if (o.transport == Transport::kSsh && o.local) {
    return UsageError("--transport ssh needs an SSH connection: not with --local");
  }
  o.attach = f.attach;
  o.name = f.name;
  if (o.attach.has_value() && !o.name.empty()) {
    return UsageError("--attach and --name exclude each other (--name attaches when it can)");
  }
  if (o.attach.has_value() && !o.command.empty()) {
    return UsageError("a command runs only in a new session, not with --attach");
  }
  if (f.history.has_value()) {
    if (!o.attach.has_value() && o.name.empty()) {
      return UsageError("--history goes with --attach or --name (it is what a re-attach shows)");
    }
    if (*f.history < 0 || *f.history > kMaxAttachHistory) {
      return UsageError(absl::StrCat("--history: expected 0..", kMaxAttachHistory, " lines, got ",
                                     *f.history));
    }
    o.history = *f.history;
  }
  return r;
}

ParsedCommandLine FinishSessions(const RawFlags& f, Command command) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = command;
  r.sessions = f.sessions;
  if (command == Command::kKill && r.sessions.target.empty()) {
    return UsageError("kill needs the session's id or name");
  }
  return r;
}

ParsedCommandLine FinishBootstrap(const RawFlags& f,
                                  const std::map<std::string, std::string>& env) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kBootstrap;
  r.bootstrap = f.bootstrap;
  r.bootstrap.data_dir = BootstrapDataDir(env);
  const std::string& dest = r.bootstrap.dest_path;
  if (dest.empty() || dest.back() == '/' || dest == "~" ||
      dest.find('\n') != std::string::npos) {
    return UsageError(absl::StrCat("--dest must name a file, got '", dest, "'"));
  }
  return r;
}

ParsedCommandLine FinishRouter(const RawFlags& f) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kRouter;
  r.router = f.router;
  uint32_t port = 0;
  if (!absl::SimpleAtoi(f.router_port, &port) || port == 0 || port > 65535 ||
      f.router_port.find_first_not_of("0123456789") != std::string::npos) {
    return UsageError(absl::StrCat("bad UDP port '", f.router_port, "'"));
  }
  r.router.port = static_cast<uint16_t>(port);
  if (r.router.max_sessions == 0 || r.router.max_sessions_per_user == 0) {
    return UsageError("--max-sessions and --max-sessions-per-user must be at least 1");
  }
  return r;
}

ParsedCommandLine FinishClient(const RawFlags& f, const std::map<std::string, std::string>& env) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kClient;
  ClientOptions& o = r.client;
  o.ip = f.client_ip;
  uint32_t port = 0;
  if (!absl::SimpleAtoi(f.client_port, &port) || port == 0 || port > 65535 ||
      f.client_port.find_first_not_of("0123456789") != std::string::npos) {
    return UsageError(absl::StrCat("bad UDP port '", f.client_port, "'"));
  }
  o.port = static_cast<uint16_t>(port);
  o.mode = f.client_mode == "mosh" ? net::WireMode::kMosh : net::WireMode::kMoshx;
  if (o.mode == net::WireMode::kMoshx) {
    const std::string& id = f.client_connection_id;
    if (id.empty()) {
      return UsageError("moshx mode needs --connection-id with the 16 hex digits of the "
                        "MOSHX CONNECT line");
    }
    if (id.size() != 16 || id.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
        !absl::SimpleHexAtoi(id, &o.connection_id)) {
      return UsageError(absl::StrCat("invalid --connection-id '", id,
                                     "': expected the 16 hex digits of the MOSHX CONNECT line"));
    }
  }
  auto predict = ParsePredictionDisplay(f.predict, env);
  if (!predict.ok()) return UsageError(predict.status().message());
  o.terminal.predict = *predict;
  o.terminal.title_prefix = f.title_prefix;
  SetTerminalEnvironment(env, &o.terminal);
  auto key = env.find("MOSH_KEY");
  if (key != env.end()) o.mosh_key = key->second;
  return r;
}

}  // namespace

ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env) {
  RawFlags flags;
  App a = BuildApp(&flags);
  std::vector<std::string> rest(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
  if (rest.empty()) {
    return Exit(2, "", absl::StrCat(a.app->help(), "\nmoshx: no command given\n"));
  }
  std::vector<std::string> reversed(rest.rbegin(), rest.rend());  // CLI11 pops from the back
  try {
    a.app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    CLI::App* sub = a.app->get_subcommands().empty() ? a.app.get() : a.app->get_subcommands()[0];
    return Exit(0, sub->help(), "");
  } catch (const CLI::CallForAllHelp&) {
    return Exit(0, a.app->help("", CLI::AppFormatMode::All), "");
  } catch (const CLI::CallForVersion& e) {
    return Exit(0, absl::StrCat(e.what(), "\n"), "");
  } catch (const CLI::ExtrasError&) {
    std::vector<std::string> extras = a.app->remaining();
    for (CLI::App* sub : {a.serve, a.connect, a.client, a.bootstrap, a.router, a.ls, a.kill}) {
      if (extras.empty() && sub->parsed()) extras = sub->remaining();
    }
    return UnexpectedArgument(extras);
  } catch (const CLI::ParseError& e) {
    return UsageError(e.what());
  }
  if (a.serve->parsed()) return FinishServe(flags, env);
  if (a.connect->parsed()) return FinishConnect(flags, env);
  if (a.client->parsed()) return FinishClient(flags, env);
  if (a.bootstrap->parsed()) return FinishBootstrap(flags, env);
  if (a.router->parsed()) return FinishRouter(flags);
  if (a.ls->parsed()) return FinishSessions(flags, Command::kLs);
  if (a.kill->parsed()) return FinishSessions(flags, Command::kKill);
  return UsageError("no command given");
}

}  // namespace moshx::cmd
