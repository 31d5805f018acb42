// Server-side translation of the user's keystrokes before they reach the pty
// (docs/protocol.md §10.2): the client keeps its terminal in
// application-cursor-key mode, so arrow keys arrive as ESC O A..D; unless the
// application asked for that mode (DECCKM, `CSI ? 1 h`), they are rewritten
// to the normal form ESC [ A..D. Only then is the "O" after an ESC held back
// until the next byte shows whether it starts an arrow key: an application in
// cursor-key mode (vim, which also takes ESC then O as "open line above")
// gets every byte at once. Everything else passes through unchanged.
// Not thread-safe.
#ifndef MOSHX_CMD_SERVER_USER_INPUT_H_
#define MOSHX_CMD_SERVER_USER_INPUT_H_

#include <string>

namespace moshx::cmd {

class UserInputTranslator {
 public:
  // Appends to `out` what `byte` (plus anything held back) becomes.
  void Translate(char byte, bool application_cursor_keys, std::string* out);

 private:
  enum class State { kNormal, kEscape, kEscapeO };
  State state_ = State::kNormal;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_USER_INPUT_H_
