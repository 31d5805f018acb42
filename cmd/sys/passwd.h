// Login shell and home directory lookup WITHOUT NSS.
//
// moshx is linked statically, and glibc's getpwuid()/getpwnam() in a static
// binary dlopen()s NSS modules at run time (and warns at link time), which may
// not match the host's glibc. So the account database is read directly from a
// passwd(5)-format file, normally /etc/passwd. Accounts that live only in
// LDAP/NIS/systemd-homed are therefore not found; the fallbacks below ($SHELL,
// $HOME as the caller passes them in, then fixed defaults) cover them.
//
// All functions are thread-compatible (they read a file; no global state).
#ifndef MOSHX_CMD_SYS_PASSWD_H_
#define MOSHX_CMD_SYS_PASSWD_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::sys {

inline constexpr char kSystemPasswdPath[] = "/etc/passwd";

// One passwd(5) line: name:password:uid:gid:gecos:home:shell.
struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;   // may be empty
  std::string shell;  // verbatim; empty means /bin/sh per passwd(5)
};

// Parses the text of a passwd file and returns the FIRST entry whose uid is
// `uid`, or std::nullopt. Malformed lines (wrong field count, non-numeric
// uid/gid, "+"/"-" NIS compat lines, comments, blank lines) are skipped, never
// an error: one bad line must not hide a good one.
std::optional<PasswdEntry> FindPasswdEntry(absl::string_view contents,
                                           uid_t uid);

// Reads `passwd_path` and calls FindPasswdEntry. Errors: the errno text of a
// failed open/read (e.g. NotFound "open /nonexistent: No such file or
// directory"), NotFound if no line has `uid`.
absl::StatusOr<PasswdEntry> LookupPasswdEntry(uid_t uid,
                                              const std::string& passwd_path);

// The FIRST entry named `name`, as FindPasswdEntry skips malformed lines.
std::optional<PasswdEntry> FindPasswdEntryByName(absl::string_view contents,
                                                 absl::string_view name);

// Reads `passwd_path` and calls FindPasswdEntryByName. Errors as
// LookupPasswdEntry's; NotFound if no line has `name`.
absl::StatusOr<PasswdEntry> LookupPasswdEntryByName(absl::string_view name,
                                                    const std::string& passwd_path);

// The login shell of `uid`: the entry's shell field if the entry exists and
// the field is non-empty; else `shell_variable` ($SHELL) if non-empty; else
// "/bin/sh". Never fails (an unreadable file just means "use the fallbacks").
std::string LoginShellForUid(uid_t uid, const std::string& passwd_path,
                             const std::string& shell_variable);

// The home directory of `uid`: `home_variable` ($HOME) if non-empty (as
// mosh-server uses it, so a user's override wins); else the entry's home
// field; else "/".
std::string HomeDirectoryForUid(uid_t uid, const std::string& passwd_path,
                                const std::string& home_variable);

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_PASSWD_H_
