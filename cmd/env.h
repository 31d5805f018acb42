// The process environment, read once: main.cc builds a name -> value map
// from `environ` and hands it to the command-line parsers, which turn what
// each command needs into option fields (cmd/options.h). These helpers are
// that translation; no other code reads the environment. (Children inherit
// it: cmd/sys/spawn.h passes `environ` on; main.cc takes MOSH_KEY out of it
// first, cmd/sys/hardening.h.)
//
// Pure functions; thread-compatible.
#ifndef MOSHX_CMD_ENV_H_
#define MOSHX_CMD_ENV_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cmd/options.h"
#include "core/prediction_engine.h"

namespace moshx::cmd {

using Environment = std::map<std::string, std::string>;

// The value of `name`, "" when unset.
std::string Lookup(const Environment& env, const std::string& name);

// A mosh-server timeout variable (MOSH_SERVER_NETWORK_TMOUT,
// MOSH_SERVER_SIGNAL_TMOUT): whole seconds. Unset or empty: zero (no
// timeout); not an integer, or negative: zero plus mosh's warning in
// *warnings.
absl::Duration TimeoutFromEnvironment(const Environment& env, const std::string& name,
                                      std::vector<std::string>* warnings);

// "adaptive", "always", "never" or "experimental", as --predict and
// MOSH_PREDICTION_DISPLAY spell them; nullopt for anything else.
std::optional<core::PredictionDisplay> PredictionDisplayNamed(absl::string_view name);

// MOSH_ESCAPE_KEY and MOSH_NO_TERM_INIT.
void SetTerminalEnvironment(const Environment& env, TerminalOptions* terminal);

// The server's locale variables, HOME and SHELL.
void SetServeEnvironment(const Environment& env, ServeOptions* serve);

// $XDG_DATA_HOME/moshx, else $HOME/.local/share/moshx (the XDG base
// directory rules: a relative XDG_DATA_HOME is ignored); "" without either.
// Where bootstrap looks for builds of other architectures.
std::string BootstrapDataDir(const Environment& env);

// The client's locale (for the server's -l), TERM and the terminfo
// directories (for a mosh-server's colour count).
void SetConnectEnvironment(const Environment& env, ConnectOptions* connect);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_ENV_H_
