// Prints the local-echo figures per keystroke trace and RTT (issue 6):
//
//   bazel run -c opt //cmd:prediction_bench
//   bazel run -c opt //cmd:prediction_bench -- --traces=shell_editing --rtts=50,500
//       [--predict=adaptive|always|never|experimental] [--wire=moshx|mosh]
//       [--engine=moshx|mosh] [--debug=1]
//
// Run from the workspace runfiles (bazel run does this) so that
// testdata/traces/<name>.trace resolves. Columns: keys typed, share shown
// within 5 ms, share mispredicted, median and mean response time over keys
// with a visible effect, keys never shown, secret cells drawn, converged.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cmd/testing/trace_replay.h"

namespace {

using moshx::core::PredictionDisplay;
using namespace moshx::cmd::testing;

std::vector<std::string> Arg(int argc, char** argv, const char* name, const char* def) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return absl::StrSplit(argv[i] + prefix.size(), ',', absl::SkipEmpty());
    }
  }
  return absl::StrSplit(def, ',', absl::SkipEmpty());
}

PredictionDisplay ModeOf(const std::string& s) {
  if (s == "always") return PredictionDisplay::kAlways;
  if (s == "never") return PredictionDisplay::kNever;
  if (s == "experimental") return PredictionDisplay::kExperimental;
  return PredictionDisplay::kAdaptive;
}

}  // namespace

int main(int argc, char** argv) {
  const auto traces = Arg(argc, argv, "traces", "shell_editing,password,editor,pager");
  const auto rtts = Arg(argc, argv, "rtts", "50,200,500");
  const std::string predict = Arg(argc, argv, "predict", "adaptive")[0];
  // --wire=mosh: mosh's wire format, so no pty report reaches the client.
  const std::string wire = Arg(argc, argv, "wire", "moshx")[0];
  // --engine=mosh: mosh 1.4's prediction engine, without moshx's changes.
  const std::string engine = Arg(argc, argv, "engine", "moshx")[0];
  // --debug=1: each key's drawn screen against the expected one, on stderr.
  const std::string debug = Arg(argc, argv, "debug", "0")[0];
  std::printf("%-14s %6s %5s %8s %7s %8s %8s %6s %7s %5s\n", "trace", "rtt_ms", "keys",
              "instant", "mispred", "median", "mean", "never", "secret", "conv");
  int failures = 0;
  for (const std::string& name : traces) {
    absl::StatusOr<Trace> trace = LoadTrace("testdata/traces/" + name + ".trace");
    if (!trace.ok()) {
      std::fprintf(stderr, "%s\n", std::string(trace.status().message()).c_str());
      return 2;
    }
    absl::StatusOr<std::vector<Screen>> reference = ReferenceScreens(*trace);
    if (!reference.ok()) {
      std::fprintf(stderr, "%s\n", std::string(reference.status().message()).c_str());
      return 2;
    }
    for (const std::string& rtt : rtts) {
      ReplayOptions o;
      int ms = 0;
      if (!absl::SimpleAtoi(rtt, &ms)) return 2;
      o.rtt = absl::Milliseconds(ms);
      o.predict = ModeOf(predict);
      o.mode = wire == "mosh" ? moshx::net::WireMode::kMosh : moshx::net::WireMode::kMoshx;
      o.mosh_engine = engine == "mosh";
      o.debug = debug == "1";
      absl::StatusOr<ReplayResult> r = ReplayTrace(*trace, *reference, o);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
        ++failures;
        continue;
      }
      std::printf("%-14s %6d %5d %7.1f%% %6.1f%% %6.0fms %6.0fms %6d %7d %5s\n", name.c_str(),
                  ms, r->keys, 100 * r->instant_share(), 100 * r->mispredicted_share(),
                  r->median_ms, r->mean_ms, r->never_shown, r->secret_cells_drawn,
                  r->converged && !r->predictions_left ? "yes" : "NO");
      std::fflush(stdout);
    }
  }
  return failures == 0 ? 0 : 1;
}
