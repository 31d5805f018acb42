// The command line: CLI11 in, plain option structs out.
//
// ParseCommandLine never throws and never prints: CLI11's exceptions stay in
// flags.cc and every outcome (run a command, or print something and exit with
// a status) comes back as a value, so main() stays trivial and the parsing is
// unit-tested. Exit statuses: 0 for --help and --version, 2 for usage errors
// (unknown command or option, bad value), with a one-line message and a hint.
//
// Environment variables that mosh users rely on are folded in here too
// (MOSH_SERVER_NETWORK_TMOUT, MOSH_SERVER_SIGNAL_TMOUT, MOSH_PREDICTION_DISPLAY,
// MOSH_PREDICTION_OVERWRITE), flags winning over the environment; problems
// with them become `warnings`. So is everything else a command needs from the
// environment (cmd/env.h): the option structs (cmd/options.h) carry it.
#ifndef MOSHX_CMD_FLAGS_H_
#define MOSHX_CMD_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "cmd/options.h"

namespace moshx::cmd {

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
  RouterOptions router;
  SessionsOptions sessions;  // ls, kill
  // Non-fatal problems (e.g. a malformed timeout variable), one per line.
  std::vector<std::string> warnings;
};

// Parses argv (args[0] is the program name) with the process environment
// given as `env` (the map main.cc builds).
ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env = {});

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_FLAGS_H_
