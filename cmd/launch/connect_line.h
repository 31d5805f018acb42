// The CONNECT line: how a server started over SSH tells the client where and
// how to reach it.
//
//   mosh mode:   MOSH CONNECT <port> <22-char key>
//   moshx mode:  MOSHX CONNECT <port> <22-char key> <16 hex digits: connection id>
//
// The mosh form is byte-for-byte mosh-server's (docs/protocol.md §2.2), so
// the stock `mosh` wrapper and other mosh clients can use a moshx server in
// mosh mode. The moshx form deliberately does not match the wrapper's regular
// expression, so a mosh client can never try to speak mosh's protocol to a
// server that speaks moshx's. The line says which mode the server speaks;
// nothing is guessed from packets.
//
// Parsing is meant for whatever came back through SSH: login banners, motd,
// the server's own stderr and pty artefacts (`\r`, `\r\r\n`) around the line.
// The key is a secret: no error message produced here contains it.
#ifndef MOSHX_CMD_LAUNCH_CONNECT_LINE_H_
#define MOSHX_CMD_LAUNCH_CONNECT_LINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/packet_format.h"
#include "net/session_key.h"

namespace moshx::cmd {

struct ConnectInfo {
  net::WireMode mode = net::WireMode::kMosh;
  uint16_t port = 0;
  net::SessionKey key{{}};
  uint64_t connection_id = 0;  // moshx mode only
};

// The line, without a trailing newline.
std::string FormatConnectLine(const ConnectInfo& info);

// Parses one line (trailing whitespace and `\r` tolerated). NotFound if the
// line is not a CONNECT line at all; InvalidArgument if it is one but
// malformed (bad port, bad key, bad id).
absl::StatusOr<ConnectInfo> ParseConnectLine(absl::string_view line);

// What a server's startup output (e.g. everything ssh printed) contained.
struct StartupOutput {
  // The first CONNECT line found, if any.
  absl::StatusOr<ConnectInfo> connect = absl::NotFoundError("no CONNECT line");
  // Every other non-empty line, in order (banners, warnings, errors), for
  // showing the user when something went wrong.
  std::vector<std::string> other_lines;
};

// Scans output line by line; lines after the first CONNECT line are kept in
// other_lines too. A malformed CONNECT line is reported (InvalidArgument) unless
// a valid one follows.
StartupOutput ScanStartupOutput(absl::string_view output);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_CONNECT_LINE_H_
