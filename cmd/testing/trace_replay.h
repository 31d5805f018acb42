// Replays a keystroke trace (cmd/testing/trace.h) through an in-process
// ClientSession and ServerSession on the simulated network, the server running
// the trace's real program on a real pty, and measures what the user saw:
//
//   * reference screens: the program is first run directly on a pty, one key
//     at a time, and the screen (text and cursor position) after each key is
//     recorded. Key k "appears" at the first time the client's drawn frame
//     equals the reference screen of key k or of a later key already typed.
//     Keys whose reference screen equals the previous one have no visible
//     effect and are left out of the timing figures;
//   * instant: shown within 5 ms of the key (virtual time);
//   * mispredicted: the client drew a prediction for the key that the
//     server's screen then contradicted (core::PredictionEngine::Stats);
//   * secret leaks: drawn cells holding any character of Trace::secret,
//     checked on every frame handed to the draw callback;
//   * convergence: after the trace the drawn frame equals the server's
//     screen and no prediction is pending.
//
// Time: virtual time stands still while the program answers a keystroke (the
// loop waits in real time until the program has read its input, FIONREAD on
// the pty's slave side, and its output has settled), so the program appears
// to answer at once and the figures do not depend on the machine's load.
//
// testonly; spawns processes, takes a few seconds of real time per trace.
#ifndef MOSHX_CMD_TESTING_TRACE_REPLAY_H_
#define MOSHX_CMD_TESTING_TRACE_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/client/client_session.h"
#include "cmd/testing/trace.h"
#include "core/framebuffer.h"

namespace moshx::cmd::testing {

// What is compared: the text of every row and the cursor position.
struct Screen {
  std::string text;
  int row = 0;
  int col = 0;
  friend bool operator==(const Screen& a, const Screen& b) {
    return a.row == b.row && a.col == b.col && a.text == b.text;
  }
};
Screen ScreenOf(const core::Framebuffer& fb);

// The screen after each key of `trace`, the program run directly on a pty.
absl::StatusOr<std::vector<Screen>> ReferenceScreens(const Trace& trace);

struct ReplayOptions {
  absl::Duration rtt = absl::Milliseconds(200);  // both directions together
  uint64_t seed = 1;
  core::PredictionDisplay predict = core::PredictionDisplay::kAdaptive;
  net::WireMode mode = net::WireMode::kMoshx;
  bool mosh_engine = false;  // ClientSessionOptions::predict_mosh_compatible
  absl::Duration instant = absl::Milliseconds(5);
  // Print to stderr what was drawn right after each key against what was
  // expected, and which keys were mispredicted (prediction_bench --debug).
  bool debug = false;
};

struct ReplayResult {
  int keys = 0;          // keys typed
  int measured = 0;      // keys with a visible effect
  int instant = 0;       // measured keys shown within ReplayOptions::instant
  int never_shown = 0;   // measured keys whose screen never appeared
  int mispredicted = 0;  // keys with a drawn prediction later contradicted
  double median_ms = 0;  // response time over measured keys that appeared
  double mean_ms = 0;
  int secret_cells_drawn = 0;  // over every drawn frame
  int frames = 0;              // frames drawn
  bool converged = false;      // final drawn frame == server screen
  bool predictions_left = false;
  bool pty_reported = false;  // the client received the moshx pty state
  std::string final_client;  // for failure messages
  std::string final_server;

  double instant_share() const { return measured ? double(instant) / measured : 0; }
  double mispredicted_share() const { return keys ? double(mispredicted) / keys : 0; }
};

// Runs `trace` at the given options, comparing with `reference` (from
// ReferenceScreens). Errors: the program could not start, or an `expect`
// text did not appear within 20 virtual seconds.
absl::StatusOr<ReplayResult> ReplayTrace(const Trace& trace, const std::vector<Screen>& reference,
                                         const ReplayOptions& options);

}  // namespace moshx::cmd::testing

#endif  // MOSHX_CMD_TESTING_TRACE_REPLAY_H_
