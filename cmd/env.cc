#include "cmd/env.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cmd/server/locale.h"
#include "cmd/sys/terminfo.h"

namespace moshx::cmd {

std::string Lookup(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

absl::Duration TimeoutFromEnvironment(const Environment& env, const std::string& name,
                                      std::vector<std::string>* warnings) {
  const std::string text = Lookup(env, name);
  if (text.empty()) return absl::ZeroDuration();
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(text, &seconds)) {
    warnings->push_back(absl::StrCat(name, " not a valid integer, ignoring"));
    return absl::ZeroDuration();
  }
  if (seconds < 0) {
    warnings->push_back(absl::StrCat(name, " is negative, ignoring"));
    return absl::ZeroDuration();
  }
  return absl::Seconds(seconds);
}

std::optional<core::PredictionDisplay> PredictionDisplayNamed(absl::string_view name) {
  if (name == "adaptive") return core::PredictionDisplay::kAdaptive;
  if (name == "always") return core::PredictionDisplay::kAlways;
  if (name == "never") return core::PredictionDisplay::kNever;
  if (name == "experimental") return core::PredictionDisplay::kExperimental;
  return std::nullopt;
}

void SetTerminalEnvironment(const Environment& env, TerminalOptions* terminal) {
  auto escape = env.find("MOSH_ESCAPE_KEY");
  terminal->escape_key =
      escape == env.end() ? std::nullopt : std::optional<std::string>(escape->second);
  terminal->alternate_screen = env.count("MOSH_NO_TERM_INIT") == 0;
}

void SetServeEnvironment(const Environment& env, ServeOptions* serve) {
  for (const std::string& name : LocaleVariableNames()) {
    auto it = env.find(name);
    if (it != env.end()) serve->locale_environment[name] = it->second;
  }
  serve->home = Lookup(env, "HOME");
  serve->shell = Lookup(env, "SHELL");
  serve->xdg_runtime_dir = Lookup(env, "XDG_RUNTIME_DIR");
  const std::string ssh = Lookup(env, "SSH_CONNECTION");
  serve->client_hint = ssh.substr(0, ssh.find(' '));
  for (const auto& [name, value] : env) {
    serve->inherited_environment.push_back(absl::StrCat(name, "=", value));
  }
}

std::string BootstrapDataDir(const Environment& env) {
  auto xdg = env.find("XDG_DATA_HOME");
  if (xdg != env.end() && absl::StartsWith(xdg->second, "/")) return xdg->second + "/moshx";
  auto home = env.find("HOME");
  if (home != env.end() && absl::StartsWith(home->second, "/")) {
    return home->second + "/.local/share/moshx";
  }
  return "";
}

void SetConnectEnvironment(const Environment& env, ConnectOptions* connect) {
  for (const std::string& name : LocaleVariableNames()) {
    const std::string value = Lookup(env, name);
    if (!value.empty()) connect->locale.emplace_back(name, value);
  }
  connect->term = Lookup(env, "TERM");
  connect->terminfo_dirs = sys::TerminfoDirectories(env);
}

}  // namespace moshx::cmd
