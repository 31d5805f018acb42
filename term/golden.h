// term::GoldenScreens: what testdata/vt/NAME.screen holds for NAME.in.
//
// Replays a recorded stream (term/vt_stream.h) through a fresh Emulator and
// renders, with term::ScreenText, the screen just before every resize and at
// the end of the stream, plus every answer the emulator produced:
//   === before resize to 60x20      (one section per resize marker)
//   <ScreenText>
//   === end
//   <ScreenText>
//   answers "..."                   (only when there were any)
//
// Pure function of its input; thread-safe.
#ifndef MOSHX_TERM_GOLDEN_H_
#define MOSHX_TERM_GOLDEN_H_

#include <string>

#include "absl/strings/string_view.h"

namespace moshx::term {

std::string GoldenScreens(absl::string_view stream);

}  // namespace moshx::term

#endif  // MOSHX_TERM_GOLDEN_H_
