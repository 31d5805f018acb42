#include "cmd/server/locale.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moshx::cmd {
namespace {

constexpr char kFallback[] = "C.UTF-8";

// "en_US.UTF-8@euro" -> {"en_us", "utf8"}: language part and normalised codeset.
std::pair<std::string, std::string> Split(absl::string_view name) {
  name = name.substr(0, name.find('@'));
  size_t dot = name.find('.');
  std::string lang = absl::AsciiStrToLower(name.substr(0, dot));
  std::string codeset;
  if (dot != absl::string_view::npos) {
    for (char c : name.substr(dot + 1)) {
      if (absl::ascii_isalnum(c)) codeset.push_back(absl::ascii_tolower(c));
    }
  }
  return {lang, codeset};
}

bool IsUtf8(absl::string_view name) { return Split(name).second == "utf8"; }

bool IsAvailable(absl::string_view name, const std::vector<std::string>& available) {
  auto wanted = Split(name);
  if (wanted.first == "c" || wanted.first == "posix") return true;  // C.UTF-8 is built in
  for (const std::string& have : available) {
    if (Split(have) == wanted) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& LocaleVariableNames() {
  static const auto* names = new std::vector<std::string>{
      "LANG",        "LANGUAGE",       "LC_CTYPE",   "LC_NUMERIC",   "LC_TIME",
      "LC_COLLATE",  "LC_MONETARY",    "LC_MESSAGES", "LC_PAPER",    "LC_NAME",
      "LC_ADDRESS",  "LC_TELEPHONE",   "LC_MEASUREMENT", "LC_IDENTIFICATION", "LC_ALL"};
  return *names;
}

LocaleChoice ChooseLocale(const std::map<std::string, std::string>& requested,
                          const std::vector<std::string>& available) {
  LocaleChoice choice;
  for (const std::string& name : LocaleVariableNames()) {
    auto it = requested.find(name);
    choice.environment[name] = it == requested.end() ? "" : it->second;
  }
  // The character set comes from the first of LC_ALL, LC_CTYPE, LANG that is set.
  std::string source, ctype;
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    if (!choice.environment[name].empty()) {
      source = name;
      ctype = choice.environment[name];
      break;
    }
  }
  if (!ctype.empty() && IsUtf8(ctype) && IsAvailable(ctype, available)) return choice;
  // Keep LANG and the other categories, but make the character set UTF-8.
  choice.environment["LC_ALL"] = "";
  choice.environment["LC_CTYPE"] = kFallback;
  if (ctype.empty()) {
    choice.warning = absl::StrCat("moshx: no locale requested; using ", kFallback);
  } else if (!IsUtf8(ctype)) {
    choice.warning = absl::StrCat("moshx: the locale ", source, "=", ctype,
                                  " is not UTF-8; using LC_CTYPE=", kFallback);
  } else {
    choice.warning = absl::StrCat("moshx: the locale ", source, "=", ctype,
                                  " is not available on this host; using LC_CTYPE=", kFallback,
                                  " (install it with locale-gen to use it)");
  }
  return choice;
}

std::vector<std::string> AvailableLocales() {
  std::vector<std::string> names;
  FILE* pipe = popen("locale -a 2>/dev/null", "r");
  if (pipe == nullptr) return names;
  char line[256];
  while (fgets(line, sizeof(line), pipe) != nullptr) {
    absl::string_view name = absl::StripAsciiWhitespace(line);
    if (!name.empty()) names.emplace_back(name);
  }
  pclose(pipe);
  return names;
}

}  // namespace moshx::cmd
