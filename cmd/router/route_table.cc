#include "cmd/router/route_table.h"

#include "absl/strings/str_cat.h"

namespace moshx::cmd::router {

void RouteTable::AddHost(HostId host, uid_t uid) { hosts_[host].uid = uid; }

void RouteTable::RemoveHost(HostId host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return;
  for (uint64_t id : it->second.ids) Drop(id);
  hosts_.erase(it);
}

void RouteTable::Drop(uint64_t id) {
  auto it = ids_.find(id);
  if (it == ids_.end()) return;
  auto user = per_user_.find(it->second.uid);
  if (user != per_user_.end() && --user->second == 0) per_user_.erase(user);
  ids_.erase(it);
}

absl::Status RouteTable::Claim(HostId host, uint64_t id) {
  auto h = hosts_.find(host);
  if (h == hosts_.end()) return absl::FailedPreconditionError("unknown host");
  const uid_t uid = h->second.uid;
  auto it = ids_.find(id);
  if (it != ids_.end()) {
    IdEntry& e = it->second;
    if (e.uid != uid) {
      return absl::PermissionDeniedError(
          absl::StrCat("connection id ", absl::Hex(id, absl::kZeroPad16),
                       " belongs to another user"));
    }
    if (e.host != host) {  // the same user's other host: it moves here
      auto old = hosts_.find(e.host);
      if (old != hosts_.end()) old->second.ids.erase(id);
      e.host = host;
      h->second.ids.insert(id);
    }
    return absl::OkStatus();
  }
  if (ids_.size() >= limits_.max_ids) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the router holds its maximum of ", limits_.max_ids, " connection ids"));
  }
  size_t& mine = per_user_[uid];
  if (mine >= limits_.max_ids_per_user) {
    if (mine == 0) per_user_.erase(uid);
    return absl::ResourceExhaustedError(absl::StrCat(
        "this user holds its maximum of ", limits_.max_ids_per_user, " connection ids"));
  }
  ++mine;
  IdEntry& e = ids_[id];
  e.host = host;
  e.uid = uid;
  h->second.ids.insert(id);
  return absl::OkStatus();
}

void RouteTable::Forget(HostId host, uint64_t id) {
  auto it = ids_.find(id);
  if (it == ids_.end() || it->second.host != host) return;
  auto h = hosts_.find(host);
  if (h != hosts_.end()) h->second.ids.erase(id);
  Drop(id);
}

std::optional<HostId> RouteTable::Route(uint64_t id, const net::Address& from) {
  auto it = ids_.find(id);
  if (it == ids_.end()) return std::nullopt;
  IdEntry& e = it->second;
  for (uint8_t i = 0; i < e.recent_count; ++i) {
    if (e.recent[i] == from) return e.host;
  }
  e.recent[e.next] = from;
  e.next = static_cast<uint8_t>((e.next + 1) % kRecentAddresses);
  if (e.recent_count < kRecentAddresses) ++e.recent_count;
  return e.host;
}

bool RouteTable::MaySend(HostId host, uint64_t id, const net::Address& to) const {
  auto it = ids_.find(id);
  if (it == ids_.end() || it->second.host != host) return false;
  const IdEntry& e = it->second;
  for (uint8_t i = 0; i < e.recent_count; ++i) {
    if (e.recent[i] == to) return true;
  }
  return false;
}

size_t RouteTable::ids_of_user(uid_t uid) const {
  auto it = per_user_.find(uid);
  return it == per_user_.end() ? 0 : it->second;
}

std::optional<HostId> RouteTable::owner(uint64_t id) const {
  auto it = ids_.find(id);
  if (it == ids_.end()) return std::nullopt;
  return it->second.host;
}

}  // namespace moshx::cmd::router
