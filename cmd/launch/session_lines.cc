#include "cmd/launch/session_lines.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace moshx::cmd {

SessionLines ParseSessionLines(const std::vector<std::string>& lines) {
  SessionLines out;
  bool session_seen = false;
  for (absl::string_view line : lines) {
    if (!session_seen && absl::ConsumePrefix(&line, "MOSHX SESSION ")) {
      std::vector<absl::string_view> words = absl::StrSplit(line, absl::MaxSplits(' ', 1));
      if (words.empty() || words[0].empty()) continue;
      session_seen = true;
      out.id = std::string(words[0]);
      if (words.size() > 1 && words[1] != "-") out.name = std::string(words[1]);
    } else if (out.detached.empty() && absl::ConsumePrefix(&line, "MOSHX DETACHED ")) {
      out.detached = std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return out;
}

std::string DescribeSession(const SessionLines& lines) {
  if (lines.id.empty()) return "";
  if (lines.name.empty()) return absl::StrCat("session ", lines.id);
  return absl::StrCat("session ", lines.id, " (", lines.name, ")");
}

}  // namespace moshx::cmd
