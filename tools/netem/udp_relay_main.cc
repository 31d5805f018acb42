// udp_relay: command-line front end of moshx::netem::UdpRelay (relay.h).
//
//   udp_relay --server-port 60001 --listen-port 7000 --delay-ms 100
//             --jitter-ms 20 --loss 0.1 --control-port 0 --max-seconds 60
//
// Prints one line when ready:
//   udp_relay ready listen=7000 upstream=43122 control=39001
// (control=-1 without --control-port), and on exit:
//   udp_relay stats: up: received=... ; down: ...
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "tools/netem/relay.h"

namespace {

using moshx::netem::LinkConfig;
using moshx::netem::RelayConfig;

constexpr char kDescription[] =
    "UDP impairment relay on 127.0.0.1 for end-to-end tests of bad links.\n"
    "Clients send to 127.0.0.1:LISTEN; datagrams go to 127.0.0.1:SERVER from\n"
    "an upstream socket, replies go back to the client's latest address.\n"
    "Control: UDP text commands to the control port (rebind | freeze SECONDS\n"
    "| stats | quit), SIGUSR1 = rebind (server sees a new client port),\n"
    "SIGUSR2 = freeze for --sigusr2-freeze-seconds, SIGINT/SIGTERM = stop.";

// Options that set both directions, with per-direction overrides.
struct BothWays {
  double value = 0;
  CLI::Option* both = nullptr;
  CLI::Option* up = nullptr;
  CLI::Option* down = nullptr;
  double up_value = 0, down_value = 0;

  void Add(CLI::App& app, const std::string& name, const std::string& help,
           bool probability) {
    both = app.add_option("--" + name, value, help + " (both directions)");
    up = app.add_option("--up-" + name, up_value, help + ", client->server");
    down = app.add_option("--down-" + name, down_value,
                          help + ", server->client");
    for (CLI::Option* o : {both, up, down}) {
      o->check(probability ? CLI::Range(0.0, 1.0)
                           : CLI::Range(0.0, 3600000.0));
    }
  }
  double Up() const { return up->count() ? up_value : value; }
  double Down() const { return down->count() ? down_value : value; }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(kDescription, "udp_relay");
  RelayConfig config;
  app.add_option("--listen-port", config.listen_port,
                 "port clients send to on 127.0.0.1 (0: ephemeral)");
  app.add_option("--server-port", config.server_port,
                 "server port on 127.0.0.1")
      ->required();
  app.add_option("--control-port", config.control_port,
                 "control UDP port on 127.0.0.1 (0: ephemeral; default: none)")
      ->check(CLI::Range(0, 65535));
  BothWays delay, jitter, loss, dup;
  delay.Add(app, "delay-ms", "one-way delay in ms", false);
  jitter.Add(app, "jitter-ms", "uniform jitter +/- ms", false);
  loss.Add(app, "loss", "i.i.d. loss probability 0..1", true);
  dup.Add(app, "dup", "duplication probability 0..1", true);
  app.add_option("--seed", config.seed, "random seed (replayable)");
  app.add_option("--max-seconds", config.max_seconds,
                 "stop after this many seconds (default 300)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sigusr2-freeze-seconds", config.sigusr2_freeze_seconds,
                 "blackhole length for SIGUSR2 (default 5)");
  CLI11_PARSE(app, argc, argv);
  config.up = LinkConfig{delay.Up(), jitter.Up(), loss.Up(), dup.Up()};
  config.down = LinkConfig{delay.Down(), jitter.Down(), loss.Down(), dup.Down()};

  auto relay = moshx::netem::UdpRelay::Create(config);
  if (!relay.ok()) {
    fprintf(stderr, "udp_relay: %s\n", relay.status().ToString().c_str());
    return 1;
  }
  printf("udp_relay ready listen=%u upstream=%u control=%d\n",
         (*relay)->listen_port(), (*relay)->upstream_port(),
         (*relay)->control_port());
  fflush(stdout);
  absl::Status st = (*relay)->Run();
  printf("udp_relay stats: %s\n", (*relay)->StatsLine().c_str());
  fflush(stdout);
  if (!st.ok()) {
    fprintf(stderr, "udp_relay: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
