#include "cmd/mosh_compat.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmd/build_info.h"
#include "cmd/env.h"
#include "cmd/port_range.h"
#include "cmd/sys/terminfo.h"
#include "net/session_key.h"

namespace moshx::cmd {
namespace {

// Like mosh's programs, messages name the program as it was invoked (argv[0]).
std::string ServerUsage(absl::string_view argv0) {
  return absl::StrCat("Usage: ", argv0,
                      " new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] "
                      "[-l NAME=VALUE] [-- COMMAND...]\n");
}
std::string ClientUsage(absl::string_view argv0) {
  return absl::StrCat("Usage: ", argv0, " [-# 'ARGS'] IP PORT\n       ", argv0, " -c\n");
}

std::string Banner(absl::string_view program) {
  return absl::StrCat(program, " (", VersionLine(), ") [speaks mosh 1.4's protocol]\n");
}

ParsedCommandLine Exit(int code, std::string out, std::string err) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kExit;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == absl::string_view::npos;
}

// A getopt(3)-style scanner: clustered flags ("-sv"), attached ("-p6000")
// or separate option arguments, "--" ending the options, non-options kept in
// order (GNU getopt permutes them to the end).
struct Getopt {
  struct Option {
    char letter;
    std::string argument;
  };
  std::vector<Option> options;
  std::vector<std::string> positional;  // non-options, then everything after "--"
  std::string err;                      // getopt's own complaints, one per line
  bool bad = false;                     // an unknown option or a missing argument
};

Getopt RunGetopt(const std::string& program, const std::vector<std::string>& args,
                 absl::string_view with_argument, absl::string_view without_argument) {
  Getopt g;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      g.positional.insert(g.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      g.positional.push_back(a);
      continue;
    }
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      if (with_argument.find(c) != absl::string_view::npos) {
        if (j + 1 < a.size()) {
          g.options.push_back({c, a.substr(j + 1)});
        } else if (i + 1 < args.size()) {
          g.options.push_back({c, args[++i]});
        } else {
          absl::StrAppend(&g.err, program, ": option requires an argument -- '", std::string(1, c),
                          "'\n");
          g.bad = true;
        }
        break;
      }
      if (without_argument.find(c) == absl::string_view::npos) {
        absl::StrAppend(&g.err, program, ": invalid option -- '", std::string(1, c), "'\n");
        g.bad = true;
        continue;
      }
      g.options.push_back({c, ""});
    }
  }
  return g;
}

// -c COLORS: mosh-server's rule for TERM.
absl::StatusOr<std::string> TermForColors(const std::string& text) {
  int64_t colors = 0;
  absl::string_view digits = text;
  absl::ConsumePrefix(&digits, "-");
  if (!AllDigits(digits) || !absl::SimpleAtoi(text, &colors)) {
    return absl::InvalidArgumentError(absl::StrCat("Bad number of colors (", text, ")"));
  }
  return colors == 256 ? std::string("xterm-256color") : std::string("xterm");
}

// mosh-server words single-port errors as if for the low end of a range.
std::string MoshPortMessage(absl::string_view message) {
  if (absl::ConsumePrefix(&message, "Invalid port number")) {
    return absl::StrCat("Invalid (low) port number", message);
  }
  if (absl::ConsumePrefix(&message, "Port number")) return absl::StrCat("(Low) port number", message);
  return std::string(message);
}

// Applies one parsed mosh-server option; a non-OK status is fatal (exit 1).
absl::Status ApplyServerOption(const std::string& argv0, const Getopt::Option& opt,
                               const std::map<std::string, std::string>& env,
                               ParsedCommandLine* r) {
  ServeOptions& o = r->serve;
  switch (opt.letter) {
    case 'i':
      o.bind_address = opt.argument;
      break;
    case 'p': {
      auto range = ParsePortRange(opt.argument);
      if (!range.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(MoshPortMessage(range.status().message()),
                                                       "\n", argv0, ": Bad UDP port range (",
                                                       opt.argument, ")"));
      }
      o.port_range = *range;
      break;
    }
    case 'c': {
      auto term = TermForColors(opt.argument);
      if (!term.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(argv0, ": ", term.status().message()));
      }
      o.term = *term;
      break;
    }
    case 's': {
      std::vector<std::string> words =
          absl::StrSplit(Lookup(env, "SSH_CONNECTION"), ' ', absl::SkipEmpty());
      if (env.count("SSH_CONNECTION") == 0) {
        r->warnings.push_back("Warning: SSH_CONNECTION not found; binding to any interface.");
      } else if (words.size() != 4) {
        r->warnings.push_back("Warning: Could not parse SSH_CONNECTION; binding to any interface.");
      } else {
        absl::string_view ip = words[2];
        absl::ConsumePrefix(&ip, "::ffff:");
        o.bind_address = std::string(ip);
      }
      break;
    }
    case 'v':
      ++o.verbose;
      break;
    case 'l': {
      size_t eq = opt.argument.find('=');
      if (eq == std::string::npos || eq == 0) {
        r->warnings.push_back(absl::StrCat("mosh-server: ignoring -l ", opt.argument,
                                           " (expected NAME=VALUE)"));
      } else {
        o.environment.emplace_back(opt.argument.substr(0, eq), opt.argument.substr(eq + 1));
      }
      break;
    }
    default:  // '@': swallowed with its argument
      break;
  }
  return absl::OkStatus();
}

// The legacy forms `mosh-server`, `mosh-server IP`, `mosh-server IP PORT`.
ParsedCommandLine LegacyServer(const std::vector<std::string>& args, ParsedCommandLine r) {
  if (args.size() > 3) return Exit(1, "", ServerUsage(args[0]));
  if (args.size() >= 2) r.serve.bind_address = args[1];
  if (args.size() == 3) {
    auto range = ParsePortRange(args[2]);
    if (!range.ok() || range->low != range->high) {
      return Exit(1, "", absl::StrCat(args[0], ": Bad UDP port range (", args[2], ")\n",
                                      ServerUsage(args[0])));
    }
    r.serve.port_range = *range;
  }
  return r;
}

}  // namespace

Personality PersonalityOf(absl::string_view argv0) {
  size_t slash = argv0.rfind('/');
  absl::string_view base = slash == absl::string_view::npos ? argv0 : argv0.substr(slash + 1);
  if (base == "mosh-server") return Personality::kMoshServer;
  if (base == "mosh-client") return Personality::kMoshClient;
  return Personality::kMoshx;
}

ParsedCommandLine ParseMoshServerCommandLine(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env) {
  const std::string argv0 = args.empty() ? "mosh-server" : args[0];
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--help" || args[i] == "-h") return Exit(0, ServerUsage(argv0), "");
    if (args[i] == "--version") return Exit(0, Banner("mosh-server"), "");
  }
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kServe;
  r.serve.mode = net::WireMode::kMosh;
  r.serve.mosh_server = true;
  r.serve.term = "xterm";  // mosh-server without -c
  r.serve.network_timeout =
      TimeoutFromEnvironment(env, "MOSH_SERVER_NETWORK_TMOUT", &r.warnings);
  r.serve.signal_timeout = TimeoutFromEnvironment(env, "MOSH_SERVER_SIGNAL_TMOUT", &r.warnings);
  SetServeEnvironment(env, &r.serve);
  if (args.size() < 2 || args[1] != "new") return LegacyServer(args, std::move(r));
  // mosh-server runs getopt on argv + 1, so getopt calls itself "new".
  Getopt g = RunGetopt("new", {args.begin() + 2, args.end()}, "@ipcl", "sv");
  if (g.bad) {
    r.warnings.push_back(absl::StrCat(g.err, absl::StripSuffix(ServerUsage(argv0), "\n")));
  }
  for (const Getopt::Option& opt : g.options) {
    absl::Status s = ApplyServerOption(argv0, opt, env, &r);
    if (!s.ok()) return Exit(1, "", absl::StrCat(s.message(), "\n", ServerUsage(argv0)));
  }
  r.serve.command = g.positional;
  return r;
}

ParsedCommandLine ParseMoshClientCommandLine(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& terminfo_dirs) {
  const std::string argv0 = args.empty() ? "mosh-client" : args[0];
  const std::string help = absl::StrCat(Banner("mosh-client"), "\n", ClientUsage(argv0));
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help") return Exit(0, help, "");
    if (args[i] == "--version") return Exit(0, Banner("mosh-client"), "");
  }
  Getopt g = RunGetopt(argv0, {args.begin() + 1, args.end()}, "#", "cv");
  if (g.bad) return Exit(1, "", absl::StrCat(g.err, help));
  for (const Getopt::Option& opt : g.options) {
    if (opt.letter != 'c') continue;
    std::string term = Lookup(env, "TERM");
    if (env.count("TERM") == 0) return Exit(1, "", "TERM environment variable not set.\n");
    auto colors = sys::TerminfoColors(term, terminfo_dirs);
    if (!colors.ok()) return Exit(1, "", absl::StrCat("'", term, "': unknown terminal type.\n"));
    return Exit(0, absl::StrCat(*colors, "\n"), "");
  }
  if (g.positional.size() != 2) return Exit(1, "", help);
  const std::string& port_text = g.positional[1];
  uint32_t port = 0;
  if (!AllDigits(port_text) || !absl::SimpleAtoi(port_text, &port) || port == 0 ||
      port > 65535) {
    return Exit(1, "", absl::StrCat(argv0, ": Bad UDP port (", port_text, ")\n\n", help));
  }
  if (env.count("MOSH_KEY") == 0) {
    return Exit(1, "", "MOSH_KEY environment variable not found.\n");
  }
  auto key = net::SessionKey::FromBase64(env.at("MOSH_KEY"));  // no copy of the text
  if (!key.ok()) return Exit(1, "", absl::StrCat("Crypto exception: ", key.status().message(),
                                                 "\r\n"));
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kRun;
  r.command = Command::kClient;
  ClientOptions& o = r.client;
  o.ip = g.positional[0];
  o.port = static_cast<uint16_t>(port);
  o.mode = net::WireMode::kMosh;
  const std::string predict = Lookup(env, "MOSH_PREDICTION_DISPLAY");
  std::optional<core::PredictionDisplay> display =
      PredictionDisplayNamed(predict.empty() ? "adaptive" : predict);
  if (!display.has_value()) {
    return Exit(1, "", absl::StrCat("Unknown prediction mode ", predict, ".\n"));
  }
  o.terminal.predict = *display;
  o.terminal.predict_overwrite = Lookup(env, "MOSH_PREDICTION_OVERWRITE") == "yes";
  o.terminal.title_prefix = env.count("MOSH_TITLE_NOPREFIX") ? "" : "[mosh] ";
  SetTerminalEnvironment(env, &o.terminal);
  o.mosh_key = Lookup(env, "MOSH_KEY");
  return r;
}

}  // namespace moshx::cmd
