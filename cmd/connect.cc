#include "cmd/connect.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cmd/client/terminal_loop.h"
#include "cmd/launch/launch.h"
#include "cmd/launch/ssh.h"
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
  // Which session this is, and which others wait there (remote text).
  const std::string where = o.local ? "this machine" : o.destination;
  const std::string session = DescribeSession(launched->session);
  if ((o.attach.has_value() || !o.name.empty()) && !session.empty()) {
    std::fprintf(stderr, "moshx: attaching to %s on %s\n", TerminalSafe(session).c_str(),
                 TerminalSafe(where).c_str());
  }
  if (!launched->session.detached.empty()) {
    std::fprintf(stderr,
                 "moshx: detached sessions on %s: %s; attach with:  moshx connect %s --attach "
                 "ID|NAME\n",
                 TerminalSafe(where).c_str(), TerminalSafe(launched->session.detached).c_str(),
                 o.local ? "--local" : TerminalSafe(o.destination).c_str());
  }
  ServerEndpoint server;
  server.address = launched->address;
  server.mode = launched->info.mode;
  server.connection_id = launched->info.connection_id;
  server.key = launched->info.key;
  server.switch_paths = launched->switch_paths;
  server.start_on_ssh = launched->start_on_ssh;
  if (launched->ssh_channel != nullptr && !launched->bridge_again.empty()) {
    // The reconnect's ssh: BatchMode first (never a prompt over the session).
    absl::StatusOr<std::vector<std::string>> ssh_words = SplitCommandLine(o.ssh);
    if (ssh_words.ok()) {
      server.reconnect_argv = BuildSshArgvWithInput(*ssh_words, o.destination,
                                                    launched->bridge_again);
      std::vector<std::string> batch = *ssh_words;
      batch.insert(batch.end(), {"-o", "BatchMode=yes"});
      server.reconnect_batch_argv =
          BuildSshArgvWithInput(batch, o.destination, launched->bridge_again);
    }
  }
  server.verbose = o.verbose;
  if (launched->ssh_channel != nullptr) {  // the session rides on ssh, or may
    server.stream_read_fd = dup(launched->ssh_channel->output_fd());
    server.stream_write_fd = dup(launched->ssh_channel->input_fd());
    if (server.stream_read_fd < 0 || server.stream_write_fd < 0) {
      std::fprintf(stderr, "moshx: cannot use the SSH connection: %s\n", std::strerror(errno));
      return 1;
    }
  }
  const int status = RunTerminalLoop(server, o.terminal, o.forwarding);
  if (launched->ssh_channel != nullptr) {
    // End of input lets ssh deliver the last frames and the remote bridge
    // end; a connection that hangs is killed by the channel's destructor.
    launched->ssh_channel->WaitExit(absl::Seconds(2));
  }
  return status;
}

}  // namespace moshx::cmd
