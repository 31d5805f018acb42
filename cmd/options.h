// What each command runs with: plain option structs, filled from the
// command line (cmd/flags.h, and the mosh-server / mosh-client personalities
// in cmd/mosh_compat.h) and from the process environment, which main.cc
// reads once into a map (cmd/env.h). Nothing below main reads the
// environment: what a command needs from it travels here.
//
// No parsing and no session code here; value types.
#ifndef MOSHX_CMD_OPTIONS_H_
#define MOSHX_CMD_OPTIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "cmd/forward/forward_spec.h"
#include "core/prediction_engine.h"
#include "net/packet_format.h"
#include "net/udp_socket.h"

namespace moshx::cmd {

enum class Command { kNone, kServe, kConnect, kClient, kBootstrap, kRouter, kLs, kKill };

// `moshx connect --bootstrap`: when to copy this binary to the remote first
// (see cmd/launch/bootstrap.h).
enum class BootstrapMode {
  kAuto,    // if the remote has no moshx of this build (only with the default --server)
  kAlways,  // upload every time, then run the uploaded copy
  kNever,   // run --server as given
};

// Largest `moshx serve --scrollback` (each queued line costs about its
// text's bytes on the server while the link is behind).
inline constexpr int64_t kMaxScrollbackLines = 1000000;
// `moshx connect --history N` / `moshx serve --attach --history N`: history
// lines a re-attaching client gets first (at most kMaxAttachHistory, the
// session's ring; docs/protocol.md §7.6).
inline constexpr int64_t kDefaultAttachHistory = 1000;
inline constexpr int64_t kMaxAttachHistory = 10000;

// `moshx serve`.
struct ServeOptions {
  net::PortRange port_range = net::kDefaultPortRange;
  std::string bind_address = "0.0.0.0";
  // -l NAME=VALUE: locale/environment for the session, in order.
  std::vector<std::pair<std::string, std::string>> environment;
  bool json = false;
  net::WireMode mode = net::WireMode::kMoshx;
  absl::Duration network_timeout = absl::ZeroDuration();  // 0 = never
  absl::Duration signal_timeout = absl::ZeroDuration();
  bool foreground = false;  // do not detach (for supervisors and debugging)
  // --ssh-bridge (`moshx connect --transport ssh`, docs/ssh-path.md): after
  // the CONNECT line, stay and carry the session's datagrams between
  // stdin/stdout (net/stream_path.h frames) and its UDP port on loopback.
  bool ssh_bridge = false;
  // --ssh-bridge-to PORT: no session, only a bridge to the one on UDP PORT
  // of this host (connect's reconnect of a dropped SSH path); 0: unset.
  uint16_t ssh_bridge_to = 0;
  int verbose = 0;
  // --scrollback LINES: lines kept for the client's scrollback while the
  // link is behind, and all a flood of more than LINES per
  // HistorySender::kHoldTime keeps (moshx mode; 0 = no history stream content).
  size_t scrollback_lines = 10000;
  std::vector<std::string> command;  // empty: the login shell
  // --- the session host (moshx mode, not --foreground; docs/sessions.md) ---
  std::string name;                   // --name: the new session's name
  bool list = false;                  // --list
  std::optional<std::string> kill;    // --kill ID|NAME
  std::optional<std::string> attach;  // --attach [ID|NAME] ("" = most recently detached)
  int64_t history = kDefaultAttachHistory;  // --history N (with --attach)
  // --router: where `moshx router` listens (docs/router.md). A host started
  // while a router answers there uses the router's port; "none": always a
  // port of its own.
  std::string router_socket = "/run/moshx/router.sock";
  // --- mosh-server personality (cmd/mosh_compat.h) ---
  std::string term = "xterm-256color";  // TERM for the session (mosh-server -c)
  // Print like mosh-server: "\r\n" before the CONNECT line when stdin is a
  // tty, "[mosh-server detached, pid = N]" after it.
  bool mosh_server = false;
  // --- from the server's own environment ---
  // Its locale variables (LANG, LANGUAGE, LC_*) that are set, even to "".
  std::map<std::string, std::string> locale_environment;
  std::string home;   // $HOME ("" = unset): the session starts there
  std::string shell;  // $SHELL: the login shell when the passwd file names none
  std::string xdg_runtime_dir;  // where the host's control socket lives ("" = /tmp)
  std::string client_hint;      // the first word of $SSH_CONNECTION ("" = none)
  // The whole environment as NAME=VALUE: a session of the host gets it (the
  // host's own environment is that of the serve that started it).
  std::vector<std::string> inherited_environment;
};

// How the client treats the user's terminal (`moshx connect`, `moshx
// client`, mosh-client).
struct TerminalOptions {
  core::PredictionDisplay predict = core::PredictionDisplay::kAdaptive;
  bool predict_overwrite = false;  // --predict-overwrite / $MOSH_PREDICTION_OVERWRITE=yes
  std::string title_prefix;        // put before window titles the server sets
  std::optional<std::string> escape_key;  // $MOSH_ESCAPE_KEY (nullopt: unset)
  bool alternate_screen = true;           // false with $MOSH_NO_TERM_INIT (mosh --no-init)
};

// Port and agent forwarding of `moshx connect` (-L/-R/-D/-A,
// docs/forwarding.md); moshx mode only.
struct ForwardingOptions {
  std::vector<forward::ForwardSpec> specs;  // in command-line order
  bool agent = false;                       // -A
  std::string agent_socket;                 // $SSH_AUTH_SOCK ("" = unset)

  bool empty() const { return specs.empty() && !agent; }
};

// `moshx connect --transport`: how the session's datagrams travel
// (docs/ssh-path.md).
enum class Transport {
  kAuto,  // UDP, moving to the SSH connection while UDP fails (net/dual_path.h)
  kUdp,   // UDP to the server's port
  kSsh,   // length-prefixed frames over the SSH connection that started the server
};

// `moshx connect`.
struct ConnectOptions {
  std::string destination;            // [user@]host; empty with --local
  bool local = false;                 // start the server on loopback, no SSH
  std::string ssh = "ssh";            // split like a shell
  std::string server = "moshx";       // remote command that runs the server
  std::optional<std::string> port;    // -p PORT[:HIGH], checked when parsed
  std::string family = "prefer-inet"; // inet|inet6|auto|all|prefer-inet|prefer-inet6
  TerminalOptions terminal;
  ForwardingOptions forwarding;
  int verbose = 0;
  std::vector<std::string> command;   // run instead of the login shell
  // --attach [ID|NAME] (moshx mode, docs/sessions.md): attach to that
  // session of the remote's session host with a new association; "" = the
  // most recently detached one. nullopt: start a new session.
  std::optional<std::string> attach;
  // --history N: with --attach or --name, the session's newest N history
  // lines go into the local scrollback first (moshx mode).
  int64_t history = kDefaultAttachHistory;
  // --name NAME: attach to the session named NAME if it exists, else start
  // a new session with that name (like `tmux new -A -s NAME`).
  std::string name;
  BootstrapMode bootstrap = BootstrapMode::kAuto;  // --bootstrap
  Transport transport = Transport::kAuto;          // --transport
  // BootstrapOptions::data_dir for --bootstrap.
  std::string bootstrap_data_dir;
  // --- from the environment ---
  // The locale variables set to non-empty values, in LocaleVariableNames()
  // order (cmd/server/locale.h), for the server's -l.
  std::vector<std::pair<std::string, std::string>> locale;
  std::string term;                        // $TERM, for a mosh-server's -c COLORS
  std::vector<std::string> terminfo_dirs;  // where to look $TERM up (cmd/sys/terminfo.h)
};

// `moshx ls [user@]host` and `moshx kill [user@]host ID|NAME`: the remote's
// moshx sessions (docs/sessions.md), through `moshx serve --list` / `--kill`
// over one SSH connection.
struct SessionsOptions {
  std::string destination;      // [user@]host
  std::string ssh = "ssh";      // split like a shell
  std::string server = "moshx"; // remote command that runs moshx
  std::string target;           // kill: ID|NAME
  bool json = false;            // pass --json: the remote's JSON on stdout
};

// `moshx bootstrap [user@]host`: copy this binary to the remote
// (cmd/launch/bootstrap.h).
struct BootstrapOptions {
  std::string destination;                       // [user@]host, passed to ssh as is
  std::string ssh = "ssh";                       // split like a shell (cmd/launch/ssh.h)
  std::string dest_path = "~/.local/bin/moshx";  // --dest: "~/...", relative to $HOME, or absolute
  bool force = false;                            // upload even when the same build is there
  bool json = false;                             // one JSON line on stdout, no progress bar
  // Library use only (not on the command line):
  // Also look this command up on the remote PATH; when it is this very build
  // nothing is uploaded and BootstrapResult::server names it. Empty: no lookup.
  std::string check_command;
  // The binary to copy and compare; tests point it at a built moshx.
  std::string binary_path = "/proc/self/exe";
  // Where the build for a remote of another architecture (a file named
  // moshx-linux-ARCH, as tools/release writes it) is looked for when it is not
  // in the directory of `binary_path` (symlinks resolved):
  // $XDG_DATA_HOME/moshx, by default ~/.local/share/moshx. Empty: nowhere else.
  std::string data_dir;
};

// `moshx router`: one UDP port for every user's sessions (docs/router.md).
struct RouterOptions {
  std::string bind = "0.0.0.0";                       // numeric IP
  uint16_t port = 60001;
  std::string socket_path = "/run/moshx/router.sock";  // where session hosts register
  std::string user;  // account to run as; empty: moshx-router if it exists, else nobody
  size_t max_sessions = 65536;           // connection ids held in all
  size_t max_sessions_per_user = 4096;   // ... and per user
  int verbose = 0;                       // -v: counters on stderr once a minute
  // Library use only: where accounts are looked up (read without NSS).
  std::string passwd_path = "/etc/passwd";
};

// `moshx client`: attach to a running server given its address; the key
// comes from $MOSH_KEY (never argv), as for mosh-client.
struct ClientOptions {
  std::string ip;
  uint16_t port = 0;
  net::WireMode mode = net::WireMode::kMoshx;
  uint64_t connection_id = 0;
  TerminalOptions terminal;
  std::optional<std::string> mosh_key;  // $MOSH_KEY's text (nullopt: unset)
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_OPTIONS_H_
