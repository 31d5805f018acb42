#include "cmd/sys/passwd.h"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moshx::sys {
namespace {

std::optional<PasswdEntry> ParseLine(absl::string_view line) {
  if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') {
    return std::nullopt;
  }
  std::vector<absl::string_view> f = absl::StrSplit(line, ':');
  if (f.size() != 7 || f[0].empty()) return std::nullopt;
  PasswdEntry entry;
  uint32_t uid, gid;
  if (!absl::SimpleAtoi(f[2], &uid) || !absl::SimpleAtoi(f[3], &gid)) {
    return std::nullopt;
  }
  entry.name = std::string(f[0]);
  entry.uid = uid;
  entry.gid = gid;
  entry.home = std::string(f[5]);
  entry.shell = std::string(f[6]);
  return entry;
}

}  // namespace

std::optional<PasswdEntry> FindPasswdEntry(absl::string_view contents,
                                           uid_t uid) {
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::optional<PasswdEntry> entry = ParseLine(line);
    if (entry.has_value() && entry->uid == uid) return entry;
  }
  return std::nullopt;
}

std::optional<PasswdEntry> FindPasswdEntryByName(absl::string_view contents,
                                                 absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::optional<PasswdEntry> entry = ParseLine(line);
    if (entry.has_value() && entry->name == name) return entry;
  }
  return std::nullopt;
}

namespace {

absl::StatusOr<std::string> ReadPasswd(const std::string& passwd_path) {
  std::ifstream in(passwd_path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, "open " + passwd_path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::ErrnoToStatus(errno, "read " + passwd_path);
  return text.str();
}

}  // namespace

absl::StatusOr<PasswdEntry> LookupPasswdEntryByName(absl::string_view name,
                                                    const std::string& passwd_path) {
  absl::StatusOr<std::string> text = ReadPasswd(passwd_path);
  if (!text.ok()) return text.status();
  std::optional<PasswdEntry> entry = FindPasswdEntryByName(*text, name);
  if (!entry.has_value()) {
    return absl::NotFoundError(absl::StrCat("no account '", name, "' in ", passwd_path));
  }
  return *std::move(entry);
}

absl::StatusOr<PasswdEntry> LookupPasswdEntry(uid_t uid,
                                              const std::string& passwd_path) {
  absl::StatusOr<std::string> text = ReadPasswd(passwd_path);
  if (!text.ok()) return text.status();
  std::optional<PasswdEntry> entry = FindPasswdEntry(*text, uid);
  if (!entry.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no entry for uid ", uid, " in ", passwd_path));
  }
  return *std::move(entry);
}

std::string LoginShellForUid(uid_t uid, const std::string& passwd_path,
                             const std::string& shell_variable) {
  absl::StatusOr<PasswdEntry> entry = LookupPasswdEntry(uid, passwd_path);
  if (entry.ok() && !entry->shell.empty()) return entry->shell;
  return shell_variable.empty() ? "/bin/sh" : shell_variable;
}

std::string HomeDirectoryForUid(uid_t uid, const std::string& passwd_path,
                                const std::string& home_variable) {
  if (!home_variable.empty()) return home_variable;
  absl::StatusOr<PasswdEntry> entry = LookupPasswdEntry(uid, passwd_path);
  if (entry.ok() && !entry->home.empty()) return entry->home;
  return "/";
}

}  // namespace moshx::sys
