#include "cmd/client/direct_client.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "cmd/client/terminal_loop.h"
#include "cmd/sys/tty.h"
#include "net/session_key.h"

namespace moshx::cmd {

int RunDirectClient(ClientOptions c) {
  if (!c.mosh_key.has_value()) {
    std::fprintf(stderr, "moshx client: MOSH_KEY environment variable not found.\n");
    return 1;
  }
  auto key = net::SessionKey::FromBase64(*c.mosh_key);
  net::WipeSecret(&*c.mosh_key);
  if (!key.ok()) {
    std::fprintf(stderr, "moshx client: bad MOSH_KEY: %s\n",
                 std::string(key.status().message()).c_str());
    return 1;
  }
  auto address = net::Address::Parse(c.ip, c.port);
  if (!address.ok()) {
    std::fprintf(stderr, "moshx client: %s is not a numeric IP address\n", c.ip.c_str());
    return 1;
  }
  if (!sys::IsTty(STDIN_FILENO) || !sys::IsTty(STDOUT_FILENO)) {
    std::fprintf(stderr, "moshx client: standard input and output must be a terminal\n");
    return 1;
  }
  ServerEndpoint server;
  server.address = *address;
  server.mode = c.mode;
  server.connection_id = c.connection_id;
  server.key = *key;
  return RunTerminalLoop(server, c.terminal);
}

}  // namespace moshx::cmd
