// The command line: CLI11 in, plain option structs out.
//
// ParseCommandLine never throws and never prints: CLI11's exceptions stay in
// flags.cc and every outcome (run a command, or print something and exit with
// a status) comes back as a value, so main() stays trivial and the parsing is
// unit-tested. Exit statuses: 0 for --help and --version, 2 for usage errors
// (unknown command or option, bad value), with a one-line message and a hint.
//
// Environment variables that mosh users rely on are folded in here too
// (MOSH_SERVER_NETWORK_TMOUT, MOSH_SERVER_SIGNAL_TMOUT, MOSH_PREDICTION_DISPLAY),
// flags winning over the environment; problems with them become `warnings`.
#ifndef MOSHX_CMD_FLAGS_H_
#define MOSHX_CMD_FLAGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cmd/client_session.h"
#include "net/packet_format.h"
#include "net/udp_socket.h"

namespace moshx::cmd {

enum class Command { kNone, kServe, kConnect, kClient, kBootstrap };

// `moshx connect --bootstrap`: when to copy this binary to the remote first
// (see cmd/bootstrap.h).
enum class BootstrapMode {
  kAuto,    // if the remote has no moshx of this build (only with the default --server)
  kAlways,  // upload every time, then run the uploaded copy
  kNever,   // run --server as given
};

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
  int verbose = 0;
  std::vector<std::string> command;  // empty: the login shell
  // --- mosh-server personality (cmd/mosh_compat.h; helper "interop") ---
  std::string term = "xterm-256color";  // TERM for the session (mosh-server -c)
  // Print like mosh-server: "\r\n" before the CONNECT line when stdin is a
  // tty, "[mosh-server detached, pid = N]" after it.
  bool mosh_server = false;
};

// `moshx connect`.
struct ConnectOptions {
  std::string destination;            // [user@]host; empty with --local
  bool local = false;                 // start the server on loopback, no SSH
  std::string ssh = "ssh";            // split like a shell
  std::string server = "moshx";       // remote command that runs the server
  std::optional<std::string> port;    // -p PORT[:HIGH], checked when parsed
  std::string family = "prefer-inet"; // inet|inet6|auto|all|prefer-inet|prefer-inet6
  PredictMode predict = PredictMode::kAdaptive;
  bool predict_overwrite = false;
  std::string title_prefix;
  int verbose = 0;
  std::vector<std::string> command;   // run instead of the login shell
  BootstrapMode bootstrap = BootstrapMode::kAuto;  // --bootstrap (bootstrap helper)
  // BootstrapOptions::data_dir for --bootstrap.
  std::string bootstrap_data_dir;
};

// `moshx bootstrap [user@]host`: copy this binary to the remote (cmd/bootstrap.h).
struct BootstrapOptions {
  std::string destination;                       // [user@]host, passed to ssh as is
  std::string ssh = "ssh";                       // split like a shell (cmd/ssh.h)
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

// `moshx client`: attach to a running server given its address; the key
// comes from $MOSH_KEY (never argv), as for mosh-client.
struct ClientOptions {
  std::string ip;
  uint16_t port = 0;
  net::WireMode mode = net::WireMode::kMoshx;
  uint64_t connection_id = 0;
  PredictMode predict = PredictMode::kAdaptive;
  bool predict_overwrite = false;  // $MOSH_PREDICTION_OVERWRITE=yes (mosh-client personality)
  std::string title_prefix;
};

struct ParsedCommandLine {
  enum class Action {
    kRun,   // run `command` with the parsed options
    kExit,  // write `out` to stdout and `err` to stderr, exit with exit_code
  };
  Action action = Action::kExit;
  int exit_code = 0;
  std::string out;
  std::string err;
  Command command = Command::kNone;
  ServeOptions serve;
  ConnectOptions connect;
  ClientOptions client;
  BootstrapOptions bootstrap;
  // Non-fatal problems (e.g. a malformed timeout variable), one per line.
  std::vector<std::string> warnings;
};

// Parses argv (args[0] is the program name) with the process environment
// given as `env` (only the variables named above are read).
ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env = {});

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_FLAGS_H_
