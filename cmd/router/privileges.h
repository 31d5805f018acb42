// Dropping root for `moshx router` (docs/router.md §4): it is started as
// root to bind a low or shared port and create its socket under /run, and
// then runs as an unprivileged account for good.
//
// Thread-compatible free functions. DropPrivileges changes the whole
// process's credentials: call it before any thread starts.
#ifndef MOSHX_CMD_ROUTER_PRIVILEGES_H_
#define MOSHX_CMD_ROUTER_PRIVILEGES_H_

#include <string>

#include "absl/status/statusor.h"
#include "cmd/sys/passwd.h"

namespace moshx::cmd::router {

// The account the router runs as, from `passwd_path` (read without NSS):
// `user` when given (NotFound when there is no such account); otherwise
// kRouterAccount when it exists, else "nobody". Never root: an account with
// uid 0 is InvalidArgument.
inline constexpr char kRouterAccount[] = "moshx-router";
absl::StatusOr<sys::PasswdEntry> RouterAccount(const std::string& user,
                                               const std::string& passwd_path);

// Gives up root for `account`: no supplementary groups, then its gid, then
// its uid (real, effective and saved), and checks that root cannot be taken
// back. Errors: the errno of the call that failed (EPERM when not root), or
// Internal when root could be regained.
absl::Status DropPrivileges(const sys::PasswdEntry& account);

}  // namespace moshx::cmd::router

#endif  // MOSHX_CMD_ROUTER_PRIVILEGES_H_
