#include "cmd/router/privileges.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd::router {

absl::StatusOr<sys::PasswdEntry> RouterAccount(const std::string& user,
                                               const std::string& passwd_path) {
  absl::StatusOr<sys::PasswdEntry> entry =
      sys::LookupPasswdEntryByName(user.empty() ? kRouterAccount : user, passwd_path);
  if (!entry.ok() && user.empty() && absl::IsNotFound(entry.status())) {
    entry = sys::LookupPasswdEntryByName("nobody", passwd_path);
  }
  if (!entry.ok()) return entry.status();
  if (entry->uid == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the router must not run as ", entry->name, " (uid 0)"));
  }
  return entry;
}

absl::Status DropPrivileges(const sys::PasswdEntry& account) {
  if (setgroups(0, nullptr) != 0) return absl::ErrnoToStatus(errno, "setgroups");
  if (setresgid(account.gid, account.gid, account.gid) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setresgid ", account.gid));
  }
  if (setresuid(account.uid, account.uid, account.uid) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setresuid ", account.uid));
  }
  if (setuid(0) == 0 || geteuid() != account.uid || getegid() != account.gid) {
    return absl::InternalError("root could be regained after dropping privileges");
  }
  return absl::OkStatus();
}

}  // namespace moshx::cmd::router
