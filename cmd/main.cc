// moshx: entry point. Hardens the process (no core file, not dumpable:
// cmd/sys/hardening.h), reads the environment (once: the map below is the
// only place moshx reads it; the parsers turn what commands need into their
// option structs; $MOSH_KEY is taken out of the environment block and wiped
// there), parses the command line and dispatches; all logic lives in the
// cmd/ libraries.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cmd/client/direct_client.h"
#include "cmd/connect.h"
#include "cmd/flags.h"
#include "cmd/launch/bootstrap.h"
#include "cmd/launch/remote_sessions.h"
#include "cmd/mosh_compat.h"
#include "cmd/router/run_router.h"
#include "cmd/server/serve.h"
#include "cmd/server/session_process.h"
#include "cmd/sys/hardening.h"
#include "cmd/sys/terminfo.h"
#include "net/session_key.h"

extern char** environ;

namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything reads a key: a crash from here on writes no core file.
  const absl::Status hardened = moshx::sys::HardenProcess();
  std::optional<std::string> mosh_key = moshx::sys::TakeSecretEnvironmentVariable("MOSH_KEY");
  std::vector<std::string> args(argv, argv + argc);
  // A session of the session host (docs/sessions.md §4), which starts it so.
  if (!args.empty() && args[0] == moshx::cmd::kSessionProcessName) {
    return moshx::cmd::RunSessionProcess();
  }
  // Installed or symlinked as mosh-server / mosh-client: mosh's command lines
  // (cmd/mosh_compat.h), mosh's message style (no "moshx: " prefix).
  const auto personality = moshx::cmd::PersonalityOf(args.empty() ? "" : args[0]);
  std::map<std::string, std::string> env = Environment();
  if (mosh_key.has_value()) {
    env["MOSH_KEY"] = *mosh_key;
    moshx::net::WipeSecret(&*mosh_key);
  }
  moshx::cmd::ParsedCommandLine parsed;
  switch (personality) {
    case moshx::cmd::Personality::kMoshServer:
      parsed = moshx::cmd::ParseMoshServerCommandLine(args, env);
      break;
    case moshx::cmd::Personality::kMoshClient:
      parsed = moshx::cmd::ParseMoshClientCommandLine(args, env,
                                                      moshx::sys::TerminfoDirectories(env));
      break;
    case moshx::cmd::Personality::kMoshx:
      parsed = moshx::cmd::ParseCommandLine(args, env);
      break;
  }
  if (auto key = env.find("MOSH_KEY"); key != env.end()) moshx::net::WipeSecret(&key->second);
  const char* prefix = personality == moshx::cmd::Personality::kMoshx ? "moshx: " : "";
  if (!hardened.ok()) {
    std::fprintf(stderr, "%swarning: core dumps may include keys: %s\n", prefix,
                 std::string(hardened.message()).c_str());
  }
  for (const std::string& warning : parsed.warnings) {
    std::fprintf(stderr, "%s%s\n", prefix, warning.c_str());
  }
  if (parsed.action == moshx::cmd::ParsedCommandLine::Action::kExit) {
    std::fputs(parsed.out.c_str(), stdout);
    std::fputs(parsed.err.c_str(), stderr);
    return parsed.exit_code;
  }
  switch (parsed.command) {
    case moshx::cmd::Command::kServe:
      return moshx::cmd::RunServe(parsed.serve);
    case moshx::cmd::Command::kConnect:
      return moshx::cmd::RunConnect(parsed.connect);
    case moshx::cmd::Command::kClient:
      return moshx::cmd::RunDirectClient(std::move(parsed.client));
    case moshx::cmd::Command::kBootstrap:
      return moshx::cmd::RunBootstrap(parsed.bootstrap);
    case moshx::cmd::Command::kRouter:
      return moshx::cmd::RunRouter(parsed.router);
    case moshx::cmd::Command::kLs:
      return moshx::cmd::RunRemoteSessions(parsed.sessions, /*kill=*/false);
    case moshx::cmd::Command::kKill:
      return moshx::cmd::RunRemoteSessions(parsed.sessions, /*kill=*/true);
    case moshx::cmd::Command::kNone:
      break;
  }
  return 2;
}
