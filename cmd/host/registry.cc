#include "cmd/host/registry.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace moshx::cmd {
namespace {

constexpr size_t kMaxNameLength = 64;

std::string JsonTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "null";
  return JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()));
}

std::string Ago(absl::Time t, absl::Time now) {
  if (t == absl::InfinitePast()) return "never";
  const int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(now - t));
  if (s < 120) return absl::StrCat(s, "s ago");
  if (s < 7200) return absl::StrCat(s / 60, "m ago");
  if (s < 2 * 86400) return absl::StrCat(s / 3600, "h ago");
  return absl::StrCat(s / 86400, "d ago");
}

std::string RecordJson(const SessionRecord& r) {
  std::string out = absl::StrFormat(
      "{\"id\":%d,\"name\":%s,\"created\":%s,\"state\":\"%s\",\"last_contact\":%s,"
      "\"last_client_address\":%s,\"width\":%d,\"height\":%d,\"foreground_command\":%s,"
      "\"pid\":%d",
      r.id, r.name.empty() ? "null" : JsonQuote(r.name), JsonTime(r.created),
      r.ended ? "ended" : (r.attached ? "attached" : "detached"), JsonTime(r.last_contact),
      r.last_client.empty() ? "null" : JsonQuote(r.last_client), r.width, r.height,
      JsonQuote(r.foreground_command), static_cast<int>(r.pid));
  if (r.ended) {
    absl::StrAppendFormat(&out, ",\"exit_status\":%d,\"end_reason\":%s,\"ended\":%s",
                          r.exit_status, JsonQuote(r.end_reason), JsonTime(r.ended_at));
  }
  out += "}";
  return out;
}

}  // namespace

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7F) {
      absl::StrAppendFormat(&out, "\\u%04x", u);
    } else {
      out += c;
    }
  }
  out += "\"";
  return out;
}

absl::Status SessionRegistry::ValidateName(absl::string_view name) {
  if (name.empty()) return absl::OkStatus();
  bool all_digits = true;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "session name '", name, "': use only letters, digits, '.', '_' and '-'"));
    }
    all_digits &= absl::ascii_isdigit(c);
  }
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("session name of ", name.size(), " characters (at most ", kMaxNameLength,
                     ")"));
  }
  if (all_digits) {
    return absl::InvalidArgumentError(
        absl::StrCat("session name '", name, "' is all digits (it would read as an id)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> SessionRegistry::Add(SessionRecord record) {
  if (absl::Status valid = ValidateName(record.name); !valid.ok()) return valid;
  if (!record.name.empty() && FindLiveByName(record.name) != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("a session named '", record.name, "' already exists"));
  }
  record.id = next_id_++;
  record.ended = false;
  const uint64_t id = record.id;
  records_.emplace(id, std::move(record));
  return id;
}

SessionRecord* SessionRegistry::FindById(uint64_t id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

SessionRecord* SessionRegistry::FindLiveByName(absl::string_view name) {
  if (name.empty()) return nullptr;
  for (auto& [id, r] : records_) {
    if (!r.ended && r.name == name) return &r;
  }
  return nullptr;
}

absl::StatusOr<SessionRecord*> SessionRegistry::Find(absl::string_view target) {
  if (SessionRecord* r = FindLiveByName(target)) return r;
  // An ended session with that name: the newest one.
  SessionRecord* ended = nullptr;
  for (auto& [id, r] : records_) {
    if (r.ended && !target.empty() && r.name == target) ended = &r;
  }
  if (ended != nullptr) return ended;
  uint64_t id = 0;
  if (absl::SimpleAtoi(target, &id)) {
    if (SessionRecord* r = FindById(id)) return r;
  }
  return absl::NotFoundError(absl::StrCat("no session '", target, "'; sessions: ", Summary()));
}

SessionRecord* SessionRegistry::MostRecentlyDetached() {
  SessionRecord* best = nullptr;
  absl::Time best_time = absl::InfinitePast();
  for (auto& [id, r] : records_) {
    if (r.ended || r.attached) continue;
    const absl::Time t = r.last_contact == absl::InfinitePast() ? r.created : r.last_contact;
    if (best == nullptr || t >= best_time) {
      best = &r;
      best_time = t;
    }
  }
  return best;
}

void SessionRegistry::MarkEnded(uint64_t id, int exit_status, std::string reason,
                                absl::Time now) {
  SessionRecord* r = FindById(id);
  if (r == nullptr || r->ended) return;
  r->ended = true;
  r->attached = false;
  r->exit_status = exit_status;
  r->end_reason = std::move(reason);
  r->ended_at = now;
  std::vector<uint64_t> ended;
  for (const auto& [rid, rec] : records_) {
    if (rec.ended) ended.push_back(rid);
  }
  // Ids grow with creation; drop the records that ended first.
  std::sort(ended.begin(), ended.end(), [this](uint64_t a, uint64_t b) {
    return records_.at(a).ended_at < records_.at(b).ended_at;
  });
  for (size_t i = 0; i + kMaxEndedKept < ended.size(); ++i) records_.erase(ended[i]);
}

std::vector<const SessionRecord*> SessionRegistry::Live() const {
  std::vector<const SessionRecord*> out;
  for (const auto& [id, r] : records_) {
    if (!r.ended) out.push_back(&r);
  }
  return out;
}

std::vector<const SessionRecord*> SessionRegistry::All() const {
  std::vector<const SessionRecord*> out;
  for (const auto& [id, r] : records_) out.push_back(&r);
  return out;
}

size_t SessionRegistry::live_count() const { return Live().size(); }

std::string SessionRegistry::ToJson(bool include_ended) const {
  std::vector<std::string> items;
  for (const SessionRecord* r : include_ended ? All() : Live()) items.push_back(RecordJson(*r));
  return absl::StrCat("{\"sessions\":[", absl::StrJoin(items, ","), "]}");
}

std::string SessionRegistry::ToTable(absl::Time now) const {
  std::vector<const SessionRecord*> live = Live();
  if (live.empty()) return "no sessions\n";
  std::string out = absl::StrFormat("%-4s %-16s %-8s %-9s %-10s %-24s %s\n", "ID", "NAME", "STATE",
                                    "SIZE", "CONTACT", "CLIENT", "COMMAND");
  for (const SessionRecord* r : live) {
    absl::StrAppendFormat(&out, "%-4d %-16s %-8s %-9s %-10s %-24s %s\n", r->id,
                          r->name.empty() ? "-" : r->name,
                          r->attached ? "attached" : "detached",
                          absl::StrCat(r->width, "x", r->height), Ago(r->last_contact, now),
                          r->last_client.empty() ? "-" : r->last_client,
                          r->foreground_command.empty() ? "-" : r->foreground_command);
  }
  return out;
}

std::string SessionRegistry::Summary() const {
  std::vector<std::string> parts;
  for (const SessionRecord* r : Live()) {
    parts.push_back(r->name.empty() ? absl::StrCat(r->id)
                                    : absl::StrCat(r->id, " (", r->name, ")"));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

}  // namespace moshx::cmd
