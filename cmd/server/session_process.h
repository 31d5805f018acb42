// The session process of the per-user session host (docs/sessions.md §4):
// `moshx-session` (argv[0]), started by the host with its relay on
// descriptor 0. It reads its `start` message, runs one ServerSession on a
// RelaySocket, reports `status` (last contact, client address, size,
// foreground program) to the host at most once a second when it changed,
// answers `attach`, and exits with the shell's exit status after telling the
// host why the session ended (`ended`). When the host goes away (the relay
// closes) the session ends.
#ifndef MOSHX_CMD_SERVER_SESSION_PROCESS_H_
#define MOSHX_CMD_SERVER_SESSION_PROCESS_H_

namespace moshx::cmd {

// argv[0] of session processes; main() dispatches on it.
inline constexpr char kSessionProcessName[] = "moshx-session";

// Runs the session; returns the process's exit status.
int RunSessionProcess();

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_SESSION_PROCESS_H_
