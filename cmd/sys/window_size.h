// WindowSize: a terminal's size in character cells, as carried by
// TIOCGWINSZ / TIOCSWINSZ (struct winsize's ws_row / ws_col; the pixel fields
// are left 0 by moshx). Plain value type shared by sys::Pty and the tty functions
// (cmd/sys/tty.h).
#ifndef MOSHX_CMD_SYS_WINDOW_SIZE_H_
#define MOSHX_CMD_SYS_WINDOW_SIZE_H_

#include <cstdint>

namespace moshx::sys {

struct WindowSize {
  uint16_t rows = 24;
  uint16_t cols = 80;

  friend bool operator==(const WindowSize& a, const WindowSize& b) {
    return a.rows == b.rows && a.cols == b.cols;
  }
  friend bool operator!=(const WindowSize& a, const WindowSize& b) {
    return !(a == b);
  }
};

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_WINDOW_SIZE_H_
