// The command line: CLI11 in, plain option structs out.
//
// ParseCommandLine never throws and never prints: CLI11's exceptions stay in
// flags.cc and every outcome (run a command, or print something and exit with
// a status) comes back as a value, so main() stays trivial and the parsing is
// unit-tested. Exit statuses follow the usual convention: 0 for --help and
// --version, 2 for usage errors (unknown command or option, bad value).
//
// Subcommands (connect, serve, bootstrap) register themselves in flags.cc as
// they arrive, each filling its own options struct here.
#ifndef MOSHX_CMD_FLAGS_H_
#define MOSHX_CMD_FLAGS_H_

#include <string>
#include <vector>

namespace moshx::cmd {

// Which subcommand to run.
enum class Command {
  kNone,  // no subcommand was given (only meaningful with action kExit)
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
};

// Parses argv (argv[0] is the program name). `args` excludes nothing: pass
// main's argv as a vector.
ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_FLAGS_H_
