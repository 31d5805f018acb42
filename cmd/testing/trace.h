// Keystroke traces for prediction replay (testdata/traces/README.md has the
// format): which program to run, what to wait for, which keys to type with
// which gaps, and which characters must never be drawn.
//
// testonly; plain values, not thread-safe.
#ifndef MOSHX_CMD_TESTING_TRACE_H_
#define MOSHX_CMD_TESTING_TRACE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace moshx::cmd::testing {

struct TraceStep {
  enum class Kind { kExpect, kType, kPause };
  Kind kind = Kind::kPause;
  std::string text;               // kExpect: the screen text to wait for
  std::vector<std::string> keys;  // kType: one entry per key (its bytes)
  absl::Duration gap;             // kType: before each key; kPause: length
};

struct Trace {
  std::string name;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value
  int width = 80;
  int height = 24;
  std::string secret;  // characters that must never be drawn
  std::vector<TraceStep> steps;

  int key_count() const;
};

// Parses the text format. Errors: InvalidArgument naming the line.
absl::StatusOr<Trace> ParseTrace(absl::string_view text, std::string name);
// Reads and parses a file (the name is its base name without extension).
absl::StatusOr<Trace> LoadTrace(const std::string& path);

// Splits a key string ("ab<left>\r") into keys (see the README).
absl::StatusOr<std::vector<std::string>> ParseKeys(absl::string_view text);

}  // namespace moshx::cmd::testing

#endif  // MOSHX_CMD_TESTING_TRACE_H_
