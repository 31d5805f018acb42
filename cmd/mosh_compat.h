// mosh compatibility: the moshx binary installed or symlinked as
// `mosh-server` or `mosh-client` accepts those programs' command lines and
// environment (docs/mosh-interop.md §1.1–§1.3) and runs in mosh
// mode (net::WireMode::kMosh), so the stock `mosh` wrapper, phone clients and
// scripts written for mosh work unchanged. And the other way round: the
// argv that makes a real mosh-server start (docs/mosh-interop.md §2.1), for
// `moshx connect --server mosh-server`.
//
// Everything here is pure parsing and formatting (plus reading terminfo
// files for `mosh-client -c`, cmd/sys/terminfo.h): the results are ordinary
// ServeOptions / ClientOptions in a ParsedCommandLine that main() runs with
// RunServe and RunDirectClient. Nothing is printed here; messages come back in
// ParsedCommandLine::out/err/warnings, worded like mosh's so that scripts
// matching them keep working.
//
// Deliberate differences from mosh (documented, not bugs):
//   * the version banner names moshx, not mosh;
//   * a non-UTF-8 locale is not fatal (cmd/server/locale.h picks C.UTF-8 instead).
// (An -i/-s address that cannot be bound falls back to every interface, as in
// mosh; RunServe does that when ServeOptions::mosh_server is set.)
//
// Thread-safety: all functions are reentrant.
#ifndef MOSHX_CMD_MOSH_COMPAT_H_
#define MOSHX_CMD_MOSH_COMPAT_H_

#include <map>
#include <string>
#include <vector>

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
// texts, exit 1), carried in ClientOptions::mosh_key (main.cc has taken it
// out of the environment). `terminfo_dirs` is where -c looks up $TERM
// (sys::TerminfoDirectories(env) in production).
ParsedCommandLine ParseMoshClientCommandLine(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& terminfo_dirs);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_MOSH_COMPAT_H_
