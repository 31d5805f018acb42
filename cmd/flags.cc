#include "cmd/flags.h"

#include <memory>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "cmd/build_info.h"

namespace moshx::cmd {
namespace {

constexpr char kDescription[] =
    "moshx: a mobile shell. Log in over SSH, then keep a remote terminal alive over an\n"
    "encrypted UDP State Synchronization Protocol that survives roaming, sleep and loss,\n"
    "with predictive local echo. Speaks mosh 1.4's wire protocol too.";

constexpr char kHint[] = "run 'moshx --help' for usage";

std::unique_ptr<CLI::App> BuildApp() {
  auto app = std::make_unique<CLI::App>(kDescription, "moshx");
  app->set_version_flag("--version", VersionLine(), "Print the version and build id, then exit");
  app->set_help_flag("-h,--help", "Print this help, then exit");
  app->allow_extras(false);
  return app;
}

ParsedCommandLine Exit(int code, std::string out, std::string err) {
  ParsedCommandLine r;
  r.action = ParsedCommandLine::Action::kExit;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

// One line naming the first argument CLI11 could not place.
std::string UnexpectedArgument(const std::vector<std::string>& extras) {
  if (extras.empty()) return absl::StrCat("moshx: unexpected arguments; ", kHint, "\n");
  const std::string& first = extras.front();
  const char* what = absl::StartsWith(first, "-") ? "unknown option" : "unknown command";
  return absl::StrCat("moshx: ", what, " '", first, "'; ", kHint, "\n");
}

}  // namespace

ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args) {
  std::unique_ptr<CLI::App> app = BuildApp();
  std::vector<std::string> rest(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
  if (rest.empty()) return Exit(2, "", absl::StrCat(app->help(), "\nmoshx: no command given\n"));
  std::vector<std::string> reversed(rest.rbegin(), rest.rend());  // CLI11 pops from the back
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return Exit(0, app->help(), "");
  } catch (const CLI::CallForAllHelp&) {
    return Exit(0, app->help("", CLI::AppFormatMode::All), "");
  } catch (const CLI::CallForVersion& e) {
    return Exit(0, absl::StrCat(e.what(), "\n"), "");
  } catch (const CLI::ExtrasError&) {
    return Exit(2, "", UnexpectedArgument(app->remaining()));
  } catch (const CLI::ParseError& e) {
    return Exit(2, "", absl::StrCat("moshx: ", e.what(), "; ", kHint, "\n"));
  }
  // Every accepted command line so far ends in --help or --version.
  return Exit(2, "", absl::StrCat("moshx: no command given; ", kHint, "\n"));
}

}  // namespace moshx::cmd
