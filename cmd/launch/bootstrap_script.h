// The remote half of `moshx bootstrap`: a POSIX shell script run through SSH,
// and pure functions that read what it prints and decide what to do.
//
// Protocol over the one SSH connection (the script is the remote command,
// `sh -c SCRIPT moshx-bootstrap DEST COMMAND OS ARCHES [SERVE]`, ARCHES being
// the architectures moshx is built for, space-separated; nothing but a POSIX
// sh, uname, mkdir, cat, wc, chmod, mv and rm is assumed on the remote;
// `head -c` is used when it works):
//
//   remote -> local   "moshx-bootstrap 1"        greeting, protocol version
//                     "os Linux" / "arch x86_64"  uname -s / uname -m
//                     "tool sha256sum"            sha256sum|shasum|openssl|none
//                     "path /home/u/.local/bin/moshx"   DEST made absolute
//                     "dest missing" | "dest file HASH ID" | "dest other"
//                     "command PATH file HASH ID" | "command -"
//                     "end"
//   local -> remote   "skip"  (or end of input): the script exits, writes nothing
//                 or  "serve dest" | "serve command" (only with SERVE): run
//                     SERVE (below) with DEST or COMMAND's path (COMMAND
//                     itself when `command -v` did not find it); with a
//                     third word "bridge" ("serve dest bridge") SERVE runs
//                     with $bridge set to --ssh-bridge, and the rest of the
//                     input is that bridge's (docs/ssh-path.md)
//                 or  "upload SIZE SHA256 BUILDID", then SIZE raw bytes, then EOF
//                 or  "upload SIZE SHA256 BUILDID bridge" (only with SERVE):
//                     the same, but where the remote can read exactly SIZE
//                     bytes (`head -c`) it answers "ready exact", no EOF is
//                     needed, and SERVE then runs with $bridge set to
//                     --ssh-bridge, the rest of the input being the bridge's
//   remote -> local   "ready" (or "ready exact") once DEST's directory exists
//                     and a private upload directory in it was made, or "error KIND MESSAGE"
//                     after EOF: "installed HASH ID" or "error KIND MESSAGE";
//                     after "installed", with SERVE, SERVE runs with DEST
//
// SERVE (`moshx connect`, so that bootstrapping and starting the server take
// one SSH connection, and a password is typed once) is shell text that the
// script evaluates with the variable `srv` set to the server to run, e.g.
// `"$srv" 'serve' $bridge '--attach' 'work'`, and with the login's umask; what
// it prints follows on the same connection, and the script exits with its
// status. `bridge` is empty unless asked for ("serve ... bridge", or an
// "upload ... bridge" answered "ready exact").
//
// HASH is the remote tool's SHA-256 in lowercase hex ("-" when there is no
// tool); ID is the 12-hex-digit build id printed by `FILE --version` ("-" when
// it was not asked for: only without a hashing tool, and only on a platform
// moshx is built for, is the remote file ever run).
//
// The local side chooses what to upload once it knows the remote's
// architecture (cmd/launch/bootstrap.h): this binary, or the build for that
// architecture found on this machine.
//
// Safety: the upload goes to DIR/.moshx-bootstrap.RANDOM/moshx beside DEST
// (RANDOM: 64 bits from /dev/urandom via od, the shell's PID where od is
// missing), a directory made with `mkdir -m 700`, which fails on anything
// already at that name (a planted symlink included) instead of following it.
// The file is checked (size, then hash or build id) and only then chmod 755
// and renamed over DEST (rename(2) within one file system: atomic; a symlink
// at DEST is replaced, not followed). A trap removes the upload directory on
// every exit path, including a dropped connection (EOF, SIGPIPE, SIGHUP).
//
// The script is one line without backslashes, so that every common login
// shell (sh, bash, zsh, fish, ksh, even csh) passes it through single quotes
// unchanged.
#ifndef MOSHX_CMD_LAUNCH_BOOTSTRAP_SCRIPT_H_
#define MOSHX_CMD_LAUNCH_BOOTSTRAP_SCRIPT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::cmd {

// The platform this binary runs on, as `uname -s` / `uname -m` print it.
inline constexpr char kBootstrapOs[] = "Linux";
#if defined(__x86_64__)
inline constexpr char kBootstrapArch[] = "x86_64";
#elif defined(__aarch64__)
inline constexpr char kBootstrapArch[] = "aarch64";
#else
#error "moshx is built for x86_64 and aarch64 Linux only (see kBootstrapArches)"
#endif

// Every architecture moshx is built for (tools/release makes one static
// binary per architecture), as `uname -m` prints it.
inline constexpr const char* kBootstrapArches[] = {"x86_64", "aarch64"};

// The file name of the build for `arch` (`uname -m`): "moshx-linux-aarch64",
// as tools/release names it.
std::string BuildFileName(absl::string_view arch);

// The script text (one line, no backslashes).
const std::string& BootstrapScript();

// The remote command line for ssh: `sh -c SCRIPT moshx-bootstrap DEST COMMAND
// OS ARCHES [SERVE]`, each word shell-quoted. `dest` may start with "~/" (the
// remote $HOME) or be relative to $HOME; `command` is looked up on the remote
// PATH with `command -v` and may be empty (no lookup); `serve` (see above)
// is left out when empty.
std::string BootstrapRemoteCommand(absl::string_view dest, absl::string_view command,
                                   absl::string_view serve = "");

// One remote file as the script saw it.
struct RemoteFile {
  enum class State {
    kMissing,  // nothing there
    kFile,     // a regular file (hash and/or build id below)
    kOther,    // a directory or something else that is not a regular file
  };
  State state = State::kMissing;
  std::string path;
  std::string sha256;    // lowercase hex, empty when unknown
  std::string build_id;  // 12 hex digits from --version, empty when unknown
};

// Everything the probe reported.
struct RemoteProbe {
  std::string os;         // uname -s, may be empty
  std::string arch;       // uname -m, may be empty
  std::string hash_tool;  // "sha256sum", "shasum", "openssl" or "none"
  RemoteFile dest;        // DEST, path made absolute
  RemoteFile command;     // `command -v COMMAND`; state kMissing if not found
};

// Parses the probe lines (greeting to "end", without newlines).
// InvalidArgument when a line is malformed or the greeting or "end" is
// missing; Unimplemented for another protocol version.
absl::StatusOr<RemoteProbe> ParseProbe(const std::vector<std::string>& lines);

// OK when the remote is kBootstrapOs on one of kBootstrapArches (whether a
// build for it is at hand is the caller's question); FailedPrecondition with
// a message naming the remote's platform and moshx's otherwise.
absl::Status CheckPlatform(const RemoteProbe& probe);

// Whether `file` is this build: same SHA-256 when the remote had a hashing
// tool, else the same 12-digit build-id prefix. `sha256` and `build_id` are
// this binary's (full hex strings).
bool IsSameBuild(const RemoteFile& file, absl::string_view sha256, absl::string_view build_id);

// The "upload SIZE SHA256 ID" command line (with its newline); with
// `bridge`, "upload SIZE SHA256 ID bridge" (see the protocol above).
std::string UploadCommand(uint64_t size, absl::string_view sha256, absl::string_view build_id,
                          bool bridge = false);

// Reads a post-upload line: "installed HASH ID" -> that file; "error KIND
// MESSAGE" -> an error Status carrying MESSAGE (PermissionDenied for KIND
// "unwritable", DataLoss for "truncated"/"corrupt", Internal otherwise).
absl::StatusOr<RemoteFile> ParseUploadReply(absl::string_view line);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_BOOTSTRAP_SCRIPT_H_
