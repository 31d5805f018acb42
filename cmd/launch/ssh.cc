#include "cmd/launch/ssh.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace moshx::cmd {

absl::StatusOr<std::vector<std::string>> SplitCommandLine(absl::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i == text.size()) return absl::InvalidArgumentError("trailing backslash");
      word.push_back(text[i]);
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == absl::string_view::npos) return absl::InvalidArgumentError("unterminated '");
      word.append(text.data() + i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i == text.size()) return absl::InvalidArgumentError("unterminated \"");
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() &&
            absl::string_view("\"\\$`").find(text[i + 1]) != absl::string_view::npos) {
          ++i;
        }
        word.push_back(text[i]);
      }
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return absl::InvalidArgumentError("empty command");
  return words;
}

std::string ShellQuote(absl::string_view word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

std::string ShellJoin(const std::vector<std::string>& words) {
  return absl::StrJoin(words, " ", [](std::string* out, const std::string& w) {
    out->append(ShellQuote(w));
  });
}

std::vector<std::string> BuildSshArgv(const std::vector<std::string>& ssh_words,
                                      absl::string_view destination,
                                      const std::vector<std::string>& remote_command) {
  return BuildSshArgvForCommandLine(ssh_words, destination, ShellJoin(remote_command));
}

std::vector<std::string> BuildSshArgvForCommandLine(const std::vector<std::string>& ssh_words,
                                                    absl::string_view destination,
                                                    absl::string_view command_line) {
  std::vector<std::string> argv = ssh_words;
  // "--" before the destination: one beginning with '-' is a host name, never
  // an option (`-oProxyCommand=...` would run a local command).
  argv.insert(argv.end(),
              {"-n", "-T", "--", std::string(destination), std::string(command_line)});
  return argv;
}

std::vector<std::string> BuildSshArgvWithInput(const std::vector<std::string>& ssh_words,
                                               absl::string_view destination,
                                               absl::string_view command_line) {
  std::vector<std::string> argv = ssh_words;
  argv.insert(argv.end(), {"-T", "-o", "IPQoS=lowdelay", "--", std::string(destination),
                           std::string(command_line)});
  return argv;
}

}  // namespace moshx::cmd
