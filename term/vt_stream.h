// term::VtStream: recorded terminal output streams (testdata/vt/*.in) with
// in-band resize events.
//
// A stream is the raw bytes a program wrote to its pty. A window-size change
// during the recording is stored at the exact point where it happened as the
// marker
//     ESC _ moshx-resize ; ROWS ; COLS ESC \         (an APC string)
// which terminals ignore and programs never print. A stream that starts with
// a marker starts at that size; otherwise at kDefaultWidth x kDefaultHeight.
//
// Pure functions; thread-safe.
#ifndef MOSHX_TERM_VT_STREAM_H_
#define MOSHX_TERM_VT_STREAM_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace moshx::term {

inline constexpr int kDefaultWidth = 80;
inline constexpr int kDefaultHeight = 24;

// One step of a recorded stream: bytes to feed, or a resize.
struct VtEvent {
  bool is_resize = false;
  std::string bytes;  // when !is_resize
  int width = 0;      // when is_resize
  int height = 0;
};

// Splits `stream` at its resize markers (a malformed marker stays bytes).
std::vector<VtEvent> SplitVtStream(absl::string_view stream);

// The marker for a resize to `width` x `height`.
std::string ResizeMarker(int width, int height);

}  // namespace moshx::term

#endif  // MOSHX_TERM_VT_STREAM_H_
