// The client's escape key (Ctrl-^ by default): local commands typed in the
// middle of the byte stream the user sends to the server.
//
// Rules are mosh 1.4's (docs/prediction.md §D.3): after the escape key, "."
// quits, Ctrl-Z suspends, the pass key ("^" for Ctrl-^, its lowercase twin for
// letters) sends the escape byte itself, and
// anything else sends the escape byte followed by that byte. A printable escape
// character (say "~") counts only right after a CR or LF the user typed.
// MOSH_ESCAPE_KEY picks the key: one character 1..127; empty disables it;
// Ctrl-C, Ctrl-D, LF, Ctrl-L and CR (and anything longer) fall back to Ctrl-^.
//
// Pure: bytes in, actions out. Not thread-safe.
#ifndef MOSHX_CMD_CLIENT_ESCAPE_KEY_H_
#define MOSHX_CMD_CLIENT_ESCAPE_KEY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace moshx::cmd {

struct EscapeKeyConfig {
  bool enabled = true;
  uint8_t key = 0x1E;        // Ctrl-^
  uint8_t pass_key = '^';
  bool printable = false;    // recognised only after CR/LF
  std::string key_name = "Ctrl-^";   // for the quit hint: " [To quit: Ctrl-^ .]"
  std::string help;          // the bar text while waiting for the second key

  // From MOSH_ESCAPE_KEY's value (nullopt: the variable is unset).
  static EscapeKeyConfig FromEnvironment(std::optional<absl::string_view> value);
};

// What one chunk of typed bytes asks for, in the order it happened.
struct InputActions {
  std::string to_send;        // bytes for the server
  bool quit = false;          // escape "." (later bytes were dropped)
  bool suspend = false;       // escape Ctrl-Z (bytes after it are in to_send)
  bool show_help = false;     // the escape key was pressed: show config.help
  bool clear_help = false;    // the second key came: clear the help
  bool repaint = false;       // Ctrl-L: also repaint the local screen
};

class EscapeKeyProcessor {
 public:
  explicit EscapeKeyProcessor(EscapeKeyConfig config) : config_(std::move(config)) {}

  InputActions Process(absl::string_view bytes);

  const EscapeKeyConfig& config() const { return config_; }
  bool waiting_for_command() const { return pending_escape_; }

 private:
  void Command(uint8_t byte, InputActions* out);

  EscapeKeyConfig config_;
  bool pending_escape_ = false;
  bool after_newline_ = false;  // mosh starts false: a printable escape needs an Enter first
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CLIENT_ESCAPE_KEY_H_
