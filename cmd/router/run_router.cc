#include "cmd/router/run_router.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cmd/router/privileges.h"
#include "cmd/router/router.h"
#include "cmd/router/router_socket.h"
#include "cmd/sys/process.h"
#include "net/udp_socket.h"

namespace moshx::cmd {
namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "moshx router: %s\n", what.c_str());
  return 1;
}

}  // namespace

int RunRouter(const RouterOptions& o) {
  sys::IgnoreHangupAndBrokenPipe();
  absl::StatusOr<net::Address> ip = net::Address::Parse(o.bind, 0);
  if (!ip.ok()) return Fail(absl::StrCat("--bind: ", ip.status().message()));
  auto udp = net::UdpSocket::Bind(*ip, net::PortRange{o.port, o.port});
  if (!udp.ok()) return Fail(std::string(udp.status().message()));
  auto listener = router::ListenRouterSocket(o.socket_path);
  if (!listener.ok()) return Fail(std::string(listener.status().message()));
  std::string account = absl::StrCat("uid ", getuid());
  if (geteuid() == 0) {
    absl::StatusOr<sys::PasswdEntry> entry = router::RouterAccount(o.user, o.passwd_path);
    if (!entry.ok()) return Fail(std::string(entry.status().message()));
    absl::Status dropped = router::DropPrivileges(*entry);
    if (!dropped.ok()) return Fail(absl::StrCat("dropping root: ", dropped.message()));
    account = entry->name;
  } else if (!o.user.empty()) {
    return Fail(absl::StrCat("--user ", o.user, " needs root"));
  }
  auto runtime = sys::ProcessRuntime::Create();
  if (!runtime.ok()) return Fail(std::string(runtime.status().message()));
  net::EventLoop* loop = (*runtime)->loop();
  router::RouterConfig config;
  config.limits.max_ids = o.max_sessions;
  config.limits.max_ids_per_user = o.max_sessions_per_user;
  const net::Address local = (*udp)->local_address();
  auto router = router::Router::Create(loop, std::move(*udp), std::move(*listener),
                                       router::RouterPeerUid, config);
  if (!router.ok()) return Fail(std::string(router.status().message()));
  bool stop = false;
  for (int signo : {SIGTERM, SIGINT}) {
    absl::Status s = loop->WatchSignal(signo, [&stop] { stop = true; });
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  std::fprintf(stderr, "moshx router: UDP %s, hosts register at %s, running as %s\n",
               local.ToString().c_str(), o.socket_path.c_str(), account.c_str());
  const net::Clock* clock = (*runtime)->clock();
  net::MonoTime next_report = clock->Now() + absl::Minutes(1);
  while (!stop) {
    absl::Status s = loop->RunOnce(absl::Minutes(1));
    if (!s.ok()) return Fail(std::string(s.message()));
    if (o.verbose > 0 && clock->Now() >= next_report) {
      next_report = clock->Now() + absl::Minutes(1);
      const router::RouterStats& st = (*router)->stats();
      std::fprintf(stderr,
                   "moshx router: %zu hosts, %zu ids; in %llu forwarded %llu unknown %llu "
                   "busy %llu; out %llu refused %llu\n",
                   (*router)->table().host_count(), (*router)->table().id_count(),
                   static_cast<unsigned long long>(st.datagrams_in),
                   static_cast<unsigned long long>(st.forwarded_in),
                   static_cast<unsigned long long>(st.dropped_unknown_id),
                   static_cast<unsigned long long>(st.dropped_host_busy),
                   static_cast<unsigned long long>(st.datagrams_out),
                   static_cast<unsigned long long>(st.dropped_out_refused));
    }
  }
  return 0;
}

}  // namespace moshx::cmd
