#include "cmd/testing/trace.h"

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace moshx::cmd::testing {
namespace {

// Named keys, as a terminal in application-cursor mode sends them (the
// client keeps the user's terminal in that mode, docs/prediction.md §D.5).
const std::map<std::string, std::string>& NamedKeys() {
  static const auto* keys = new std::map<std::string, std::string>{
      {"enter", "\r"},    {"bs", "\x7f"},      {"tab", "\t"},       {"esc", "\x1b"},
      {"sp", " "},        {"lt", "<"},         {"left", "\x1bOD"},  {"right", "\x1bOC"},
      {"up", "\x1bOA"},   {"down", "\x1bOB"},  {"ctrl-c", "\x03"},  {"ctrl-u", "\x15"},
      {"home", "\x1b[H"}, {"end", "\x1b[F"},   {"del", "\x1b[3~"},
  };
  return *keys;
}

size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

absl::StatusOr<std::string> Escape(absl::string_view text, size_t* i) {
  if (*i + 1 >= text.size()) return absl::InvalidArgumentError("dangling backslash");
  const char c = text[++*i];
  ++*i;
  switch (c) {
    case 'r': return std::string("\r");
    case 'n': return std::string("\n");
    case 't': return std::string("\t");
    case 'e': return std::string("\x1b");
    case 's': return std::string(" ");
    case '\\': return std::string("\\");
    case 'x': {
      int v = 0;
      if (*i + 2 > text.size() || !absl::SimpleHexAtoi(text.substr(*i, 2), &v)) {
        return absl::InvalidArgumentError("bad \\x escape");
      }
      *i += 2;
      return std::string(1, static_cast<char>(v));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown escape \\", std::string(1, c)));
}

}  // namespace

int Trace::key_count() const {
  int n = 0;
  for (const TraceStep& s : steps) n += static_cast<int>(s.keys.size());
  return n;
}

absl::StatusOr<std::vector<std::string>> ParseKeys(absl::string_view text) {
  std::vector<std::string> keys;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\\') {
      absl::StatusOr<std::string> key = Escape(text, &i);
      if (!key.ok()) return key.status();
      keys.push_back(*key);
    } else if (text[i] == '<') {
      const size_t end = text.find('>', i);
      if (end == absl::string_view::npos) return absl::InvalidArgumentError("unclosed <");
      auto it = NamedKeys().find(std::string(text.substr(i + 1, end - i - 1)));
      if (it == NamedKeys().end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown key ", text.substr(i, end - i + 1)));
      }
      keys.push_back(it->second);
      i = end + 1;
    } else {
      const size_t n = std::min(Utf8Length(text[i]), text.size() - i);
      keys.emplace_back(text.substr(i, n));
      i += n;
    }
  }
  return keys;
}

absl::StatusOr<Trace> ParseTrace(absl::string_view text, std::string name) {
  Trace trace;
  trace.name = std::move(name);
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(trace.name, ":", line_no, ": ", why));
    };
    if (absl::StripAsciiWhitespace(line).empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    const absl::string_view verb = line.substr(0, sp);
    const absl::string_view rest = sp == absl::string_view::npos ? "" : line.substr(sp + 1);
    if (verb == "program") {
      trace.argv = absl::StrSplit(rest, ' ', absl::SkipEmpty());
    } else if (verb == "env") {
      absl::StatusOr<std::vector<std::string>> parts = ParseKeys(rest);
      if (!parts.ok()) return bad(parts.status().message());
      trace.env.push_back(absl::StrJoin(*parts, ""));
    } else if (verb == "size") {
      std::vector<absl::string_view> wh = absl::StrSplit(rest, ' ');
      if (wh.size() != 2 || !absl::SimpleAtoi(wh[0], &trace.width) ||
          !absl::SimpleAtoi(wh[1], &trace.height)) {
        return bad("size WIDTH HEIGHT");
      }
    } else if (verb == "secret") {
      trace.secret = std::string(rest);
    } else if (verb == "expect") {
      absl::StatusOr<std::vector<std::string>> parts = ParseKeys(rest);
      if (!parts.ok()) return bad(parts.status().message());
      trace.steps.push_back({TraceStep::Kind::kExpect, absl::StrJoin(*parts, ""), {}, {}});
    } else if (verb == "pause" || verb == "type") {
      const size_t sp2 = rest.find(' ');
      int ms = 0;
      if (!absl::SimpleAtoi(rest.substr(0, sp2), &ms) || ms < 0) return bad("bad milliseconds");
      TraceStep step;
      step.gap = absl::Milliseconds(ms);
      if (verb == "pause") {
        step.kind = TraceStep::Kind::kPause;
      } else {
        if (sp2 == absl::string_view::npos) return bad("type GAP_MS KEYS");
        absl::StatusOr<std::vector<std::string>> keys = ParseKeys(rest.substr(sp2 + 1));
        if (!keys.ok()) return bad(keys.status().message());
        step.kind = TraceStep::Kind::kType;
        step.keys = *std::move(keys);
      }
      trace.steps.push_back(std::move(step));
    } else {
      return bad(absl::StrCat("unknown directive '", verb, "'"));
    }
  }
  if (trace.argv.empty()) return absl::InvalidArgumentError(trace.name + ": no program");
  return trace;
}

absl::StatusOr<Trace> LoadTrace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string name = path.substr(path.find_last_of('/') + 1);
  name = name.substr(0, name.find('.'));
  return ParseTrace(buffer.str(), name);
}

}  // namespace moshx::cmd::testing
