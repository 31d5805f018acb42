#include "cmd/server/user_input.h"

namespace moshx::cmd {

void UserInputTranslator::Translate(char byte, bool application_cursor_keys, std::string* out) {
  switch (state_) {
    case State::kNormal:
      out->push_back(byte);
      if (byte == '\x1b') state_ = State::kEscape;
      return;
    case State::kEscape:
      if (byte == 'O' && !application_cursor_keys) {
        state_ = State::kEscapeO;  // hold back until we see the next byte
        return;
      }
      out->push_back(byte);
      state_ = byte == '\x1b' ? State::kEscape : State::kNormal;
      return;
    case State::kEscapeO:
      state_ = State::kNormal;
      bool arrow = byte >= 'A' && byte <= 'D';
      out->push_back(arrow && !application_cursor_keys ? '[' : 'O');
      out->push_back(byte);
      if (byte == '\x1b') state_ = State::kEscape;
      return;
  }
}

}  // namespace moshx::cmd
