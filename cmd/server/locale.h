// Choosing the session's locale on the server.
//
// mosh-server refuses to start without a UTF-8 locale; moshx never refuses.
// The charset variables the client asked for (-l NAME=VALUE, else the
// server's own environment) are kept when they name a UTF-8 locale that this
// host has; otherwise the session runs with C.UTF-8 (built into glibc >= 2.35
// and present on every modern Linux) and the user gets one warning line.
//
// ChooseLocale is pure; AvailableLocales asks the host (`locale -a`).
#ifndef MOSHX_CMD_SERVER_LOCALE_H_
#define MOSHX_CMD_SERVER_LOCALE_H_

#include <map>
#include <string>
#include <vector>

namespace moshx::cmd {

// The locale variables mosh passes along (LANG, LANGUAGE, LC_*).
const std::vector<std::string>& LocaleVariableNames();

struct LocaleChoice {
  // Assignments for the child's environment; an empty value means "unset".
  std::map<std::string, std::string> environment;
  // One line for the user ("" when the requested locale is used as is).
  std::string warning;
};

// `requested`: the locale variables in force (name -> value, unset ones
// absent). `available`: the names `locale -a` prints ("C.utf8", "en_US.utf8").
LocaleChoice ChooseLocale(const std::map<std::string, std::string>& requested,
                          const std::vector<std::string>& available);

// `locale -a` on this host; empty when it cannot be run (then only C.UTF-8
// is assumed to exist).
std::vector<std::string> AvailableLocales();

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_LOCALE_H_
