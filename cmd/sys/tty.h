// Tty: the user's local terminal, as the client uses it (docs/prediction.md
// §D.1, §D.5): "is it a terminal", its window size, and raw mode with a
// guaranteed restore.
//
// ScopedRawMode saves the terminal's termios, applies raw mode as mosh does
// (cfmakeraw(3): no echo, no canonical line editing, no signals from keys,
// no CR/NL translation either way, no output processing, 8-bit characters,
// VMIN=1 VTIME=0; plus IUTF8 so the kernel handles UTF-8 on erase), and puts
// the saved settings back EXACTLY when destroyed.
//
// For fatal signals (SIGSEGV, SIGABRT...) the active ScopedRawMode also
// publishes its saved termios in static storage, so a signal handler can call
// ScopedRawMode::RestoreFromSignalHandler(), which makes only async-signal-
// safe calls (tcsetattr). At most one ScopedRawMode may be active per process
// (there is one user terminal); Enter() fails with FailedPrecondition while
// another is active.
//
// Thread-safety: Enter/Suspend/Resume/destruction from one thread (the client
// loop); RestoreFromSignalHandler from any thread or signal handler.
//
// Constructed only by cmd/ and by its own tests.
#ifndef MOSHX_CMD_SYS_TTY_H_
#define MOSHX_CMD_SYS_TTY_H_

#include <termios.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmd/sys/window_size.h"

namespace moshx::sys {

// True iff `fd` refers to a terminal (isatty).
bool IsTty(int fd);

// The window size of the terminal on `fd` (TIOCGWINSZ). Errors carry the
// errno text, e.g. NotFound/FailedPrecondition-like "Inappropriate ioctl for
// device" when `fd` is not a terminal. A terminal that reports 0 rows or 0
// columns (some serial consoles) is an InvalidArgument error; callers fall
// back to 80x24 as mosh does.
absl::StatusOr<WindowSize> GetWindowSize(int fd);

// Applies `termios` in place the way raw mode does (cfmakeraw + IUTF8).
// Exposed for tests and for callers that want to inspect the result.
void MakeRaw(struct termios* termios);

class ScopedRawMode {
 public:
  // Saves the termios of `fd` (which must stay open for the lifetime of the
  // result) and switches it to raw mode. Errors: the errno text of
  // tcgetattr/tcsetattr (e.g. "Inappropriate ioctl for device" when `fd` is
  // not a terminal); FailedPrecondition if another ScopedRawMode is active;
  // Internal if the terminal silently refused part of the raw settings (it
  // is then restored before returning).
  static absl::StatusOr<std::unique_ptr<ScopedRawMode>> Enter(int fd);

  // Restores the saved termios (errors ignored: nothing better can be done
  // on the way out).
  ~ScopedRawMode();
  ScopedRawMode(const ScopedRawMode&) = delete;
  ScopedRawMode& operator=(const ScopedRawMode&) = delete;

  // Temporarily restores the saved settings (Ctrl-Z suspend,
  // docs/prediction.md §D.4) and re-applies raw mode (on SIGCONT). Idempotent.
  absl::Status Suspend();
  absl::Status Resume();

  // The settings that will be restored.
  const struct termios& saved() const { return saved_; }

  // Restores the active ScopedRawMode's saved termios, if any, using only
  // async-signal-safe calls. For fatal-signal handlers; harmless to call
  // when none is active. Does not end the ScopedRawMode (its destructor
  // restores again, which is idempotent).
  static void RestoreFromSignalHandler();

 private:
  ScopedRawMode(int fd, const struct termios& saved, const struct termios& raw)
      : fd_(fd), saved_(saved), raw_(raw) {}

  const int fd_;
  const struct termios saved_;
  const struct termios raw_;
};

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_TTY_H_
