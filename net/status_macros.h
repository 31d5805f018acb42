// Local status-propagation macros for //net (Debian's Abseil 20220623 ships no
// absl/status/status_macros.h). Named MOSHX_NET_* so they cannot clash with
// other packages' copies.
//
//   MOSHX_NET_RETURN_IF_ERROR(DoThing());
//   MOSHX_NET_ASSIGN_OR_RETURN(auto value, ComputeValue());
#ifndef MOSHX_NET_STATUS_MACROS_H_
#define MOSHX_NET_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MOSHX_NET_RETURN_IF_ERROR(expr)          \
  do {                                           \
    ::absl::Status moshx_net_status_ = (expr);   \
    if (!moshx_net_status_.ok()) return moshx_net_status_; \
  } while (0)

#define MOSHX_NET_CONCAT_INNER_(a, b) a##b
#define MOSHX_NET_CONCAT_(a, b) MOSHX_NET_CONCAT_INNER_(a, b)

#define MOSHX_NET_ASSIGN_OR_RETURN(lhs, expr) \
  MOSHX_NET_ASSIGN_OR_RETURN_IMPL_(MOSHX_NET_CONCAT_(moshx_net_or_, __LINE__), lhs, expr)

#define MOSHX_NET_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()

#endif  // MOSHX_NET_STATUS_MACROS_H_
