#include "cmd/connect.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "cmd/client/terminal_loop.h"
#include "cmd/launch/launch.h"
#include "cmd/launch/terminal_safe.h"
#include "cmd/sys/tty.h"

namespace moshx::cmd {

int RunConnect(const ConnectOptions& o) {
  if (!sys::IsTty(STDIN_FILENO) || !sys::IsTty(STDOUT_FILENO)) {
    std::fprintf(stderr, "moshx connect: standard input and output must be a terminal\n");
    return 1;
  }
  absl::StatusOr<LaunchedServer> launched = StartServer(o);
  if (!launched.ok()) {
    // The message may quote the remote side (ssh's errors, the server's output).
    std::fprintf(stderr, "moshx: %s\n", TerminalSafe(launched.status().message()).c_str());
    return 1;
  }
  ServerEndpoint server;
  server.address = launched->address;
  server.mode = launched->info.mode;
  server.connection_id = launched->info.connection_id;
  server.key = launched->info.key;
  return RunTerminalLoop(server, o.terminal);
}

}  // namespace moshx::cmd
