#include "cmd/launch/resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cmd/launch/subprocess.h"

namespace moshx::cmd {

std::string SshHostName(const std::vector<std::string>& ssh_words, const std::string& dest,
                        bool* proxied) {
  if (proxied != nullptr) *proxied = false;
  std::vector<std::string> argv = ssh_words;
  argv.insert(argv.end(), {"-G", "--", dest});  // a dest beginning with '-' is no option
  auto result = RunAndCapture(argv, {}, absl::Seconds(10));
  std::string host = dest.substr(dest.find('@') == std::string::npos ? 0 : dest.find('@') + 1);
  if (!result.ok() || result->exit_code != 0) return host;
  std::string found = host;
  for (absl::string_view line : absl::StrSplit(result->out, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "hostname ")) {
      found = std::string(line);
    } else if (proxied != nullptr && (absl::ConsumePrefix(&line, "proxyjump ") ||
                                      absl::ConsumePrefix(&line, "proxycommand "))) {
      if (!line.empty() && line != "none") *proxied = true;
    }
  }
  return found;
}

absl::StatusOr<net::Address> Resolve(const std::string& host, const std::string& family) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = family == "inet" ? AF_INET : family == "inet6" ? AF_INET6 : AF_UNSPEC;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat("cannot resolve '", host, "': ", gai_strerror(rc)));
  }
  const addrinfo* pick = nullptr;
  int preferred = family == "prefer-inet6" ? AF_INET6 : AF_INET;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (pick == nullptr || (a->ai_family == preferred && pick->ai_family != preferred)) pick = a;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  const void* raw =
      pick->ai_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(pick->ai_addr)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(pick->ai_addr)->sin6_addr);
  inet_ntop(pick->ai_family, raw, text, sizeof(text));
  freeaddrinfo(found);
  return net::Address::Parse(text, 0);
}

}  // namespace moshx::cmd
