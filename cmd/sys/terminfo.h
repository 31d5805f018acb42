// The local terminal's description from the compiled terminfo database,
// read directly from its files (no ncurses): how many colours $TERM has, for
// `mosh-client -c` and for the -c a real mosh-server is given.
//
// Thread-safety: reentrant (reads files only).
#ifndef MOSHX_CMD_SYS_TERMINFO_H_
#define MOSHX_CMD_SYS_TERMINFO_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace moshx::sys {

// The directories ncurses searches, in order: $TERMINFO, ~/.terminfo,
// $TERMINFO_DIRS, /etc/terminfo, /lib/terminfo, /usr/share/terminfo. `env`
// is the process environment (the map main.cc builds).
std::vector<std::string> TerminfoDirectories(const std::map<std::string, std::string>& env);

// The `colors` capability of terminal type `term` from the compiled terminfo
// entry (<dir>/<first letter>/<term>, or the hex-letter layout), -1 when the
// entry lacks it (e.g. "dumb"). NotFound if no directory has the entry;
// DataLoss if the file is not a terminfo entry.
absl::StatusOr<int> TerminfoColors(const std::string& term, const std::vector<std::string>& dirs);

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_TERMINFO_H_
