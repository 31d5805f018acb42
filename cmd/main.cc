// moshx: entry point. Parses the command line and dispatches; all logic lives
// in the cmd/ libraries.
#include <cstdio>
#include <string>
#include <vector>

#include "cmd/flags.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  moshx::cmd::ParsedCommandLine parsed = moshx::cmd::ParseCommandLine(args);
  std::fputs(parsed.out.c_str(), stdout);
  std::fputs(parsed.err.c_str(), stderr);
  return parsed.exit_code;
}
