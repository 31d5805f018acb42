// `moshx bootstrap`: put this very binary on a server over SSH, with no root
// and no internet on the server, and only when it is not there already.
//
// One SSH connection carries the whole conversation (see
// cmd/launch/bootstrap_script.h for the protocol): the remote reports its OS,
// architecture, hashing tool and what sits at the destination; this side
// picks the build for that architecture (FindBuild below: this very binary,
// or a moshx-linux-ARCH file from tools/release), skips the upload when the
// remote copy is that build, and otherwise streams it into a temporary file
// beside the destination, which the remote checks and renames into place.
//
// `moshx connect --bootstrap auto|always|never` calls Bootstrap() with
// `check_command` set to its --server, then runs `BootstrapResult::server`.
//
// Thread-safety: the functions are reentrant; they fork ssh and wait for it.
#ifndef MOSHX_CMD_LAUNCH_BOOTSTRAP_H_
#define MOSHX_CMD_LAUNCH_BOOTSTRAP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/strings/string_view.h"
#include "cmd/launch/bootstrap_script.h"
#include "cmd/launch/ssh_channel.h"
#include "cmd/launch/subprocess.h"
#include "cmd/options.h"

namespace moshx::cmd {

// BootstrapOptions (the command line and the library knobs) is in cmd/options.h.

struct BootstrapResult {
  enum class Action {
    kChecked,    // CheckRemote only: nothing was changed
    kUnchanged,  // the same build was already there; nothing uploaded
    kInstalled,  // nothing was at the destination; uploaded
    kReplaced,   // another file (or build) was at the destination; replaced
  };
  Action action = Action::kChecked;
  RemoteProbe probe;         // what the remote reported before any change
  std::string path;          // absolute remote path of the destination
  // What to run on the remote to get this build: `check_command`'s path when
  // that is this build (and no upload was forced), else `path`. Empty after
  // CheckRemote when neither is this build.
  std::string server;
  uint64_t bytes_uploaded = 0;
  absl::Duration upload_time = absl::ZeroDuration();
  std::string binary;        // the local build for the remote: options.binary_path
                             // or a moshx-linux-ARCH file (FindBuild)
  std::string sha256;        // `binary`'s SHA-256, lowercase hex
  std::string build_id;      // `binary`'s GNU build id, lowercase hex (may be empty)
};

// The build of moshx for a remote of architecture `arch` (`uname -m`): the
// file at `options.binary_path` when `arch` is kBootstrapArch, else
// moshx-linux-ARCH from the directory of `options.binary_path` (symlinks
// resolved) or from `options.data_dir`, the first that is a static ELF
// executable for `arch`. FailedPrecondition, saying where it looked and how
// to get one (tools/release), when there is none; NotFound when
// `options.binary_path` cannot be read.
struct LocalBuild {
  std::string path;
  std::string bytes;
};
absl::StatusOr<LocalBuild> FindBuild(const BootstrapOptions& options, const std::string& arch);

// Called while uploading with the bytes sent so far and the total.
using BootstrapProgress = std::function<void(uint64_t sent, uint64_t total)>;

// Probes the remote over one SSH connection and changes nothing.
// FailedPrecondition for a platform moshx is not built for, or one whose
// build is not on this machine (FindBuild), Unavailable when ssh fails (the
// message includes ssh's own error output).
absl::StatusOr<BootstrapResult> CheckRemote(const BootstrapOptions& options);

// Probes and, unless the same build is already there (or `force`), uploads
// in the same SSH connection, then verifies the installed copy's hash (or
// build id when the remote has no hashing tool). Errors as CheckRemote, plus
// PermissionDenied when the destination cannot be written (read-only home)
// and DataLoss when the upload arrived incomplete or altered; on every error
// the previous file at the destination, if any, is left as it was.
absl::StatusOr<BootstrapResult> Bootstrap(const BootstrapOptions& options,
                                          const BootstrapProgress& progress = nullptr);

// "installed", "replaced", "unchanged" or "checked".
const char* ActionName(BootstrapResult::Action action);

// The one-line human summary and the one-line JSON object (no newline).
std::string DescribeResult(const BootstrapOptions& options, const BootstrapResult& result);
std::string ResultJson(const BootstrapOptions& options, const BootstrapResult& result);

// `moshx connect --bootstrap`: what the remote should run to serve, after
// making sure this build is there. kNever, or kAuto with a --server other
// than the default "moshx" (the user chose what to run, e.g. mosh-server):
// `options.server` unchanged, no SSH. kAuto: one probe; the --server command
// when it is this very build, else the default destination once it holds
// this build (uploaded if needed; for a remote of another architecture, the
// build for it, FindBuild). kAlways: upload to the default destination every
// time and run that. Uploads draw the progress bar on a terminal and print
// one line to stderr. In kAuto a platform without a build at hand or an
// unwritable home only warns (on stderr, saying where builds were looked for)
// and falls back to --server, which may be a native build; other failures,
// and all in kAlways, are returned.
// The result is shell-quoted, ready for ConnectOptions::server.
absl::StatusOr<std::string> ServerAfterBootstrap(const ConnectOptions& options);

// True when `moshx connect` bootstraps (ServerAfterBootstrap would connect):
// --bootstrap always, or auto with the default --server.
bool ConnectBootstraps(const ConnectOptions& options);

// ServerAfterBootstrap and starting the server in ONE SSH connection (so a
// password is typed once): probes, uploads when needed, then runs
// `serve_command_line` on the remote (shell text in which "$srv" stands for
// the server to run: the uploaded or found build, or in kAuto, when no build
// can be copied, --server) and returns what it printed (stdout after the
// probe, ssh's and the remote's stderr, the exit status). Warnings and the
// upload's summary go to stderr as in ServerAfterBootstrap. In kAuto an
// unwritable destination discovered during the upload ends that connection:
// then the result is NotFound and the caller starts --server with a
// connection of its own (after the warning). Other errors as
// ServerAfterBootstrap.
//
// `bridge` (may be null): when given and the remote already has this build
// (nothing to upload), the script runs `serve_command_line` with $bridge set
// to --ssh-bridge (BootstrapServeCommandLine) and the connection's input
// stays open; once the remote printed kBridgeLine, the result holds the
// lines before it (exit_code 0, err empty) and *bridge the channel, which
// then carries the session's frames (docs/ssh-path.md). After an upload (it
// ends the input) or without `bridge`, $bridge is empty and *bridge unset.
// With a bridge, `bridge_server` (may be null) is set to the remote path of
// the moshx that serves (unquoted), for a later `--ssh-bridge-to`.
absl::StatusOr<ProcessResult> BootstrapAndServe(const ConnectOptions& options,
                                                absl::string_view serve_command_line,
                                                std::unique_ptr<SshChannel>* bridge = nullptr,
                                                std::string* bridge_server = nullptr);

// `moshx bootstrap`: runs Bootstrap with a progress bar on stderr when it is
// a terminal (and not --json), prints the summary (stdout) or the error
// (stderr; with --json also a JSON line on stdout) and returns the exit
// status: 0 on success, 1 on failure.
int RunBootstrap(const BootstrapOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_BOOTSTRAP_H_
