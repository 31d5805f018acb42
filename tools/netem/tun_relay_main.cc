// tun_relay: command-line front end of moshx::netem::TunRelay (tun_relay.h),
// and its control client.
//
//   tun_relay --port client:/run/netns/A:10.77.1.0/24
//             --port server:/run/netns/B:10.77.2.0/24
//             --link client:delay=25ms,rate=20mbit,queue=50ms,loss=5%
//             --control /tmp/x/relay.sock --seed 7 --max-seconds 300
//   tun_relay ctl /tmp/x/relay.sock set client.up loss=0
//
// Prints "tun_relay ready" once every device exists, and the statistics
// when it stops. Exits when its parent dies (it is a test's helper).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/netem/tun_relay.h"

namespace {

constexpr char kDescription[] =
    "IP-level link emulator between network namespaces (test tool).\n"
    "Creates a TUN device in each port's namespace and forwards IPv4 packets\n"
    "to the port owning the destination, through the source port's .up link\n"
    "and the destination's .down link (delay, jitter, loss, rate, queue,\n"
    "protocol drop, freeze). Control: `tun_relay ctl SOCKET COMMAND...`\n"
    "(`help` lists commands), SIGUSR1 prints statistics, SIGUSR2 freezes\n"
    "every link, SIGINT/SIGTERM stop. Needs root.";

// `tun_relay ctl SOCKET WORDS...`: sends one command, prints the reply.
// Exit status 1 when the reply is an error or the relay cannot be reached.
int Ctl(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: tun_relay ctl SOCKET COMMAND [ARGS...]\n");
    return 2;
  }
  std::vector<std::string> words(argv + 3, argv + argc);
  std::string line = absl::StrJoin(words, " ") + "\n";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (strlen(argv[2]) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "tun_relay ctl: socket path too long\n");
    return 1;
  }
  strncpy(addr.sun_path, argv[2], sizeof(addr.sun_path) - 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (fd < 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    fprintf(stderr, "tun_relay ctl: cannot reach %s: %s\n", argv[2],
            strerror(errno));
    return 1;
  }
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    fprintf(stderr, "tun_relay ctl: write: %s\n", strerror(errno));
    close(fd);
    return 1;
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) reply.append(buf, n);
  close(fd);
  fputs(reply.c_str(), stdout);
  if (reply.empty()) {
    fprintf(stderr, "tun_relay ctl: no reply\n");
    return 1;
  }
  return reply.rfind("error", 0) == 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "ctl") == 0) return Ctl(argc, argv);

  CLI::App app(kDescription, "tun_relay");
  moshx::netem::RelayOptions options;
  std::vector<std::string> ports, links;
  app.add_option("--port", ports,
                 "NAME:NETNS_PATH:PREFIX[+PREFIX...] (repeat; at least 2)")
      ->required();
  app.add_option("--link", links,
                 "LINKS:SPEC, e.g. client:delay=25ms,rate=20mbit,loss=5% "
                 "(repeatable, applied in order)");
  app.add_option("--control", options.control_path,
                 "unix stream socket for `tun_relay ctl`");
  app.add_option("--tun-name", options.tun_name,
                 "TUN device name in each namespace (default netem0)");
  app.add_option("--mtu", options.mtu, "MTU of the devices (default 1500)");
  app.add_option("--seed", options.seed, "random seed (replayable)");
  app.add_option("--max-seconds", options.max_seconds,
                 "stop after this many seconds (default 600)")
      ->check(CLI::PositiveNumber);
  app.add_option("--realtime", options.realtime_priority,
                 "SCHED_FIFO priority 1-99 for punctual timers on a busy "
                 "machine (default 0: normal scheduling)")
      ->check(CLI::Range(0, 99));
  app.add_option("--sigusr2-freeze-seconds", options.sigusr2_freeze_seconds,
                 "freeze length for SIGUSR2 (default 5)");
  CLI11_PARSE(app, argc, argv);

  for (const std::string& p : ports) {
    auto spec = moshx::netem::ParsePortSpec(p);
    if (!spec.ok()) {
      fprintf(stderr, "tun_relay: %s\n", spec.status().ToString().c_str());
      return 2;
    }
    options.ports.push_back(*spec);
  }
  // A test's helper: go away with the test (even if it is killed).
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) return 1;

  auto relay = moshx::netem::TunRelay::Create(options);
  if (!relay.ok()) {
    fprintf(stderr, "tun_relay: %s\n", relay.status().ToString().c_str());
    return 1;
  }
  for (const std::string& l : links) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(l, absl::MaxSplits(':', 1));
    absl::Status st = (*relay)->SetLinks(kv.first, kv.second);
    if (!st.ok()) {
      fprintf(stderr, "tun_relay: --link %s: %s\n", l.c_str(),
              st.ToString().c_str());
      return 2;
    }
  }
  printf("tun_relay ready\n");
  fflush(stdout);
  absl::Status st = (*relay)->Run();
  printf("tun_relay stopped\n%s", (*relay)->StatsText().c_str());
  fflush(stdout);
  if (!st.ok()) {
    fprintf(stderr, "tun_relay: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
