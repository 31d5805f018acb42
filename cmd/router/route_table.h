// RouteTable: which session host owns which moshx connection id, the state
// of `moshx router` (docs/router.md §2). No I/O: the router feeds it claims,
// forgets, arriving datagrams and departing ones, and asks it where to send.
//
// Rules:
//   * A host is one connection to the router's socket, of one user (the uid
//     its SO_PEERCRED gave). Only a host may claim an id, and only for its
//     own user: an id held by another user's host is refused; an id held by
//     another host of the same user moves to the claimer (a restarted host
//     registering again before the router noticed the old connection end).
//   * Bounded: at most `max_ids` ids in all and `max_ids_per_user` per user,
//     so one user cannot fill the table for the others; a host's ids go when
//     the host goes.
//   * Replies: a host may send a datagram only under an id it holds, and only
//     to one of the last kRecentAddresses addresses a datagram for that id
//     came from, so the router's port cannot be used to send to anyone else.
//
// Thread-compatible value type.
#ifndef MOSHX_CMD_ROUTER_ROUTE_TABLE_H_
#define MOSHX_CMD_ROUTER_ROUTE_TABLE_H_

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "net/datagram_socket.h"

namespace moshx::cmd::router {

using HostId = uint64_t;

struct RouteLimits {
  size_t max_ids = 65536;
  size_t max_ids_per_user = 4096;
};

class RouteTable {
 public:
  static constexpr size_t kRecentAddresses = 4;

  explicit RouteTable(RouteLimits limits = {}) : limits_(limits) {}

  // A new host of user `uid`. `host` must not be in the table.
  void AddHost(HostId host, uid_t uid);
  // Forgets `host` and every id it holds; a no-op for an unknown host.
  void RemoveHost(HostId host);

  // `host` claims `id`. OK when it now holds it (also when it already did).
  // PermissionDenied: another user's host holds it. ResourceExhausted: the
  // table or the user is full (the message says which). FailedPrecondition:
  // `host` is not in the table.
  absl::Status Claim(HostId host, uint64_t id);
  // `host` gives `id` up; a no-op unless `host` holds it.
  void Forget(HostId host, uint64_t id);

  // The host that holds `id`, or nullopt (the caller counts the drop).
  // Remembers `from` as a recent address of `id`.
  std::optional<HostId> Route(uint64_t id, const net::Address& from);
  // Whether `host` holds `id` and a datagram for `id` recently came from `to`.
  bool MaySend(HostId host, uint64_t id, const net::Address& to) const;

  size_t id_count() const { return ids_.size(); }
  size_t host_count() const { return hosts_.size(); }
  size_t ids_of_user(uid_t uid) const;
  std::optional<HostId> owner(uint64_t id) const;

 private:
  struct IdEntry {
    HostId host = 0;
    uid_t uid = 0;
    std::array<net::Address, kRecentAddresses> recent{};
    uint8_t recent_count = 0;
    uint8_t next = 0;  // where the next new address goes
  };
  struct HostEntry {
    uid_t uid = 0;
    absl::flat_hash_set<uint64_t> ids;
  };

  void Drop(uint64_t id);

  RouteLimits limits_;
  absl::flat_hash_map<uint64_t, IdEntry> ids_;
  absl::flat_hash_map<HostId, HostEntry> hosts_;
  absl::flat_hash_map<uid_t, size_t> per_user_;
};

}  // namespace moshx::cmd::router

#endif  // MOSHX_CMD_ROUTER_ROUTE_TABLE_H_
