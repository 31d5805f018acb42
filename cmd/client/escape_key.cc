#include "cmd/client/escape_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd {
namespace {

constexpr uint8_t kCtrlZ = 0x1A;
constexpr uint8_t kCtrlL = 0x0C;

std::string KeyName(uint8_t key) {
  if (key < 32) return absl::StrCat("Ctrl-", std::string(1, static_cast<char>(key + 64)));
  return absl::StrCat("\"", std::string(1, static_cast<char>(key)), "\"");
}

}  // namespace

EscapeKeyConfig EscapeKeyConfig::FromEnvironment(std::optional<absl::string_view> value) {
  EscapeKeyConfig config;
  if (value.has_value() && value->empty()) {
    config.enabled = false;
    config.key_name.clear();
    return config;
  }
  if (value.has_value() && value->size() == 1) {
    uint8_t c = static_cast<uint8_t>((*value)[0]);
    bool refused = c == 0x03 || c == 0x04 || c == 0x0A || c == 0x0C || c == 0x0D;
    if (c >= 1 && c <= 127 && !refused) {
      config.key = c;
      config.printable = c >= 32;
      config.pass_key = c < 32 ? c + 64 : c;
    }
  }
  config.key_name = KeyName(config.key);
  std::string pass = config.printable
                         ? config.key_name
                         : absl::StrCat("\"", std::string(1, static_cast<char>(config.pass_key)),
                                        "\"");
  config.help = absl::StrCat("Commands: Ctrl-Z suspends, \".\" quits, ", pass,
                             " gives literal ", config.key_name);
  return config;
}

void EscapeKeyProcessor::Command(uint8_t byte, InputActions* out) {
  out->clear_help = true;
  if (byte == '.') {
    out->quit = true;
  } else if (byte == kCtrlZ) {
    out->suspend = true;
  } else if (byte == config_.pass_key ||
             (absl::ascii_isupper(config_.pass_key) &&
              byte == absl::ascii_tolower(config_.pass_key))) {
    out->to_send.push_back(static_cast<char>(config_.key));
  } else {
    out->to_send.push_back(static_cast<char>(config_.key));
    out->to_send.push_back(static_cast<char>(byte));
  }
}

InputActions EscapeKeyProcessor::Process(absl::string_view bytes) {
  InputActions out;
  for (char ch : bytes) {
    uint8_t byte = static_cast<uint8_t>(ch);
    if (pending_escape_) {
      pending_escape_ = false;
      Command(byte, &out);
      if (out.quit) return out;
      continue;
    }
    if (config_.enabled && byte == config_.key && (!config_.printable || after_newline_)) {
      pending_escape_ = true;
      out.show_help = true;
      out.clear_help = false;
      continue;
    }
    after_newline_ = byte == '\r' || byte == '\n';
    if (byte == kCtrlL) out.repaint = true;
    out.to_send.push_back(ch);
  }
  return out;
}

}  // namespace moshx::cmd
