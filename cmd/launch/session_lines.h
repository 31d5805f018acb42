// What a moshx session host's `serve` prints besides the CONNECT line
// (docs/sessions.md, "moshx serve and its control requests"):
//
//   MOSHX SESSION <id> <name or ->
//   MOSHX DETACHED <id>, <id> (<name>), ...   (only when some exist)
//
// `moshx connect` reads them from the remote's startup output to tell the
// user which session it attached to and which detached sessions are waiting
// there. A server without a session host (`--mode mosh`, mosh-server, an
// older moshx) prints neither; every field is then empty.
//
// The text came from the remote: print it through TerminalSafe
// (cmd/launch/terminal_safe.h). Pure functions.
#ifndef MOSHX_CMD_LAUNCH_SESSION_LINES_H_
#define MOSHX_CMD_LAUNCH_SESSION_LINES_H_

#include <string>
#include <vector>

namespace moshx::cmd {

struct SessionLines {
  std::string id;        // "3"; empty without a SESSION line
  std::string name;      // empty when the session has none ("-")
  std::string detached;  // "1, 2 (work)" as listed; empty: none
};

// Reads the lines (whitespace-trimmed, as StartupOutput::other_lines holds
// them); the first SESSION and DETACHED lines count, others are ignored.
SessionLines ParseSessionLines(const std::vector<std::string>& lines);

// "session 3 (work)" / "session 3"; empty without an id.
std::string DescribeSession(const SessionLines& lines);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_SESSION_LINES_H_
