// Making text from the remote side safe to print on the local terminal.
//
// Paths, error messages and banners that ssh or the remote shell send back
// are attacker-controlled when the remote host is hostile (docs/security.md §3):
// printed raw, an ESC or C1 control in them would drive the user's terminal
// (retitle it, move the cursor, answer a status query into the shell's
// input). Every piece of remote text that moshx prints goes through
// TerminalSafe first.
#ifndef MOSHX_CMD_LAUNCH_TERMINAL_SAFE_H_
#define MOSHX_CMD_LAUNCH_TERMINAL_SAFE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace moshx::cmd {

// `text` with every byte a terminal could act on written out as `\xNN`:
// C0 controls other than newline and tab, DEL, the C1 controls U+0080..U+009F
// encoded as UTF-8, and every byte that is not part of well-formed UTF-8 (a
// terminal in 8-bit mode would take a lone 0x9B as CSI). Printable ASCII and
// well-formed UTF-8 above U+009F pass unchanged; a backslash stays a
// backslash. Pure function.
std::string TerminalSafe(absl::string_view text);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_TERMINAL_SAFE_H_
