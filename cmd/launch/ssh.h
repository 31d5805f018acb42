// Building the SSH command line that starts a server on the remote host.
//
// `--ssh "ssh -p 2222 -i key"` is split like a POSIX shell would (quotes and
// backslashes honoured, no expansion); the remote command is sent as one
// string of single-quoted words, so arguments survive the remote login shell
// whatever it is (sh, bash, zsh, fish all accept '...' quoting with '\'').
// ssh itself resolves the destination through ~/.ssh/config (Host aliases,
// ProxyJump, ports, keys), so moshx passes `[user@]host` through untouched.
#ifndef MOSHX_CMD_LAUNCH_SSH_H_
#define MOSHX_CMD_LAUNCH_SSH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::cmd {

// Splits a command line into words. InvalidArgument for an unterminated
// quote or a trailing backslash; the result is never empty on success
// (InvalidArgument for a blank command).
absl::StatusOr<std::vector<std::string>> SplitCommandLine(absl::string_view text);

// 'word' with embedded single quotes as '\''.
std::string ShellQuote(absl::string_view word);

// Joins quoted words with spaces.
std::string ShellJoin(const std::vector<std::string>& words);

// The argv to run: `ssh_words`, then options that keep ssh from reading our
// stdin (-n) and from allocating a remote pty (-T: the server detaches and
// needs none), then "--" (so a destination beginning with '-' is never taken
// for an option), `destination`, and the quoted remote command.
std::vector<std::string> BuildSshArgv(const std::vector<std::string>& ssh_words,
                                      absl::string_view destination,
                                      const std::vector<std::string>& remote_command);

// As BuildSshArgv, with the remote command given as shell text, sent as is
// (e.g. `'moshx' 'serve' '--attach' 'work' || 'moshx' 'serve' ...`).
std::vector<std::string> BuildSshArgvForCommandLine(const std::vector<std::string>& ssh_words,
                                                    absl::string_view destination,
                                                    absl::string_view command_line);

// As BuildSshArgvForCommandLine without -n: ssh passes our stdin to the
// remote command (the datagram stream of `--transport ssh`, docs/ssh-path.md).
// `-o IPQoS=lowdelay`: the stream is interactive traffic, while ssh marks a
// connection without a tty as bulk; an IPQoS in `ssh_words` comes first and
// wins (ssh keeps an option's first value).
std::vector<std::string> BuildSshArgvWithInput(const std::vector<std::string>& ssh_words,
                                               absl::string_view destination,
                                               absl::string_view command_line);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_SSH_H_
