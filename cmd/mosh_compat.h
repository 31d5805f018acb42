// mosh compatibility: the moshx binary installed or symlinked as
// `mosh-server` or `mosh-client` accepts those programs' command lines and
// environment (spec mosh-protocol.md §8.1, §8.2, §9.1, §9.2) and runs in mosh
// mode (net::WireMode::kMosh), so the stock `mosh` wrapper, phone clients and
// scripts written for mosh work unchanged. And the other way round: the
// argv that makes a real mosh-server start (§10.2), for `moshx connect
// --server mosh-server`.
//
// Everything here is pure parsing and formatting (plus reading terminfo
// files for `mosh-client -c`): the results are ordinary ServeOptions /
// ClientOptions in a ParsedCommandLine that main() runs with RunServe and
// RunDirectClient. Nothing is printed here; messages come back in
// ParsedCommandLine::out/err/warnings, worded like mosh's so that scripts
// matching them keep working.
//
// Deliberate differences from mosh (documented, not bugs):
//   * the version banner names moshx, not mosh;
//   * a non-UTF-8 locale is not fatal (cmd/locale.h picks C.UTF-8 instead).
// (An -i/-s address that cannot be bound falls back to every interface, as in
// mosh; RunServe does that when ServeOptions::mosh_server is set.)
//
// Thread-safety: all functions are reentrant.
#ifndef MOSHX_CMD_MOSH_COMPAT_H_
#define MOSHX_CMD_MOSH_COMPAT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmd/flags.h"

namespace moshx::cmd {

// Which program the binary acts as, by the basename of argv[0]:
// "mosh-server" and "mosh-client" select those personalities, anything else
// (including "moshx") is moshx's own command line.
enum class Personality { kMoshx, kMoshServer, kMoshClient };
Personality PersonalityOf(absl::string_view argv0);

// `mosh-server [new [options] [-- command...]]` (args[0] is the program
// name). kRun results carry Command::kServe with mode kMosh and
// ServeOptions::mosh_server set; usage errors mirror mosh-server's texts and
// statuses (bad -c or -p: message + usage on stderr, exit 1; an unknown
// option: usage on stderr but the server still starts; --help/-h and
// --version anywhere before `--`: stdout, exit 0). `env` supplies
// SSH_CONNECTION (-s) and the MOSH_SERVER_*_TMOUT variables; problems with
// the latter become `warnings` (printed without a prefix).
ParsedCommandLine ParseMoshServerCommandLine(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env);

// `MOSH_KEY=... mosh-client [-# ARGS] [-v] IP PORT` and `mosh-client -c`.
// kRun results carry Command::kClient with mode kMosh. The key is checked here
// (mosh's "MOSH_KEY environment variable not found." / "Crypto exception: ..."
// texts, exit 1) but read again and unset by RunDirectClient. `terminfo_dirs`
// is where -c looks up $TERM (TerminfoDirectories(env) in production).
ParsedCommandLine ParseMoshClientCommandLine(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& terminfo_dirs);

// The directories ncurses searches, in order: $TERMINFO, ~/.terminfo,
// $TERMINFO_DIRS, /etc/terminfo, /lib/terminfo, /usr/share/terminfo.
std::vector<std::string> TerminfoDirectories(const std::map<std::string, std::string>& env);

// The `colors` capability of terminal type `term` from the compiled terminfo
// entry (<dir>/<first letter>/<term>, or the hex-letter layout), -1 when the
// entry lacks it (e.g. "dumb"). NotFound if no directory has the entry;
// DataLoss if the file is not a terminfo entry.
absl::StatusOr<int> TerminfoColors(const std::string& term,
                                   const std::vector<std::string>& dirs);

// True when the --server command of `moshx connect` names mosh's server (its
// last word is "mosh-server" or a path ending in "/mosh-server"): then the
// remote gets mosh-server's argv instead of moshx's `serve ...`.
bool IsMoshServerCommand(const std::vector<std::string>& server_words);

// What `moshx connect` asks a real mosh-server for (spec §10.2).
struct MoshServerRequest {
  int colors = 256;                                           // local terminal colours
  std::optional<std::string> port;                            // -p PORT[:HIGH]
  std::vector<std::pair<std::string, std::string>> locale;    // -l NAME=VALUE, in order
  std::vector<std::string> command;                           // empty: login shell
};

// The words after the server command, as the `mosh` wrapper sends them:
// new -c COLORS -s [-p PORT] -l NAME=VALUE... [-- command...].
std::vector<std::string> MoshServerArguments(const MoshServerRequest& request);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_MOSH_COMPAT_H_
