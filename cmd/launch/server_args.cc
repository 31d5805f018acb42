#include "cmd/launch/server_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/launch/ssh.h"
#include "cmd/sys/terminfo.h"

namespace moshx::cmd {

std::vector<std::string> ServeArguments(const ConnectOptions& o) {
  std::vector<std::string> args = {"serve"};
  if (o.transport == Transport::kSsh) args.push_back("--ssh-bridge");
  if (o.attach.has_value()) {
    args.insert(args.end(), {"--attach", *o.attach});
    // Only when not the default: a remote moshx older than --history still attaches.
    if (o.history != kDefaultAttachHistory) {
      args.insert(args.end(), {"--history", absl::StrCat(o.history)});
    }
    return args;
  }
  if (o.port.has_value()) args.insert(args.end(), {"--port-range", *o.port});
  for (const auto& [name, value] : o.locale) args.insert(args.end(), {"-l", name + "=" + value});
  if (!o.name.empty()) args.insert(args.end(), {"--name", o.name});
  if (!o.command.empty()) {
    args.push_back("--");
    args.insert(args.end(), o.command.begin(), o.command.end());
  }
  return args;
}

namespace {

// `server` + ServeArguments(o), with `bridge` (raw shell text) right after
// the word "serve" when not empty.
std::string OneServeCommand(absl::string_view server, const ConnectOptions& o,
                            absl::string_view bridge) {
  std::vector<std::string> args = ServeArguments(o);
  if (bridge.empty()) return absl::StrCat(server, " ", ShellJoin(args));
  std::string out = absl::StrCat(server, " ", ShellQuote(args.front()), " ", bridge);
  args.erase(args.begin());
  if (!args.empty()) absl::StrAppend(&out, " ", ShellJoin(args));
  return out;
}

std::string CommandLine(absl::string_view server, const ConnectOptions& o,
                        absl::string_view bridge) {
  std::string create = OneServeCommand(server, o, bridge);
  if (o.name.empty() || o.attach.has_value()) return create;
  ConnectOptions attach = o;
  attach.attach = o.name;
  return absl::StrCat(OneServeCommand(server, attach, bridge), " || ", create);
}

}  // namespace

std::string ServeCommandLine(absl::string_view server, const ConnectOptions& o) {
  return CommandLine(server, o, "");
}

std::string BootstrapServeCommandLine(absl::string_view server, const ConnectOptions& o) {
  ConnectOptions plain = o;
  plain.transport = Transport::kUdp;  // the flag is $bridge's business
  return CommandLine(server, plain, "$bridge");
}

bool IsMoshServerCommand(const std::vector<std::string>& server_words) {
  if (server_words.empty()) return false;
  const std::string& last = server_words.back();
  return last == "mosh-server" || absl::EndsWith(last, "/mosh-server");
}

std::vector<std::string> MoshServerArguments(const MoshServerRequest& request) {
  std::vector<std::string> args = {"new", "-c", absl::StrCat(request.colors), "-s"};
  if (request.port.has_value()) args.insert(args.end(), {"-p", *request.port});
  for (const auto& [name, value] : request.locale) {
    args.insert(args.end(), {"-l", absl::StrCat(name, "=", value)});
  }
  if (!request.command.empty()) {
    args.push_back("--");
    args.insert(args.end(), request.command.begin(), request.command.end());
  }
  return args;
}

std::vector<std::string> MoshServerArgumentsFor(const ConnectOptions& o) {
  MoshServerRequest request;
  auto colors = sys::TerminfoColors(o.term, o.terminfo_dirs);
  request.colors = colors.ok() && *colors > 0 ? *colors : 0;
  request.port = o.port;
  request.locale = o.locale;
  request.command = o.command;
  return MoshServerArguments(request);
}

}  // namespace moshx::cmd
