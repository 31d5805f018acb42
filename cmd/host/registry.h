// SessionRegistry: what the session host knows about each of its user's
// sessions (docs/sessions.md §2), for `moshx serve --list/--attach/--kill`
// and `moshx ls/kill host`.
//
// A session has a numeric id (1, 2, ... in creation order, never reused by
// one host) and an optional name. A target given by the user ("ID|NAME") is
// looked up as a name first, then as an id. Names are 1-64 characters of
// [A-Za-z0-9._-] and not all digits (so a name never looks like an id).
//
// Ended sessions stay listed as ended (with their exit status) until
// kMaxEndedKept newer ones ended, so "attach 3" can say that 3 ended and how.
//
// Value type; not thread-safe (the host's loop thread only).
#ifndef MOSHX_CMD_HOST_REGISTRY_H_
#define MOSHX_CMD_HOST_REGISTRY_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace moshx::cmd {

struct SessionRecord {
  uint64_t id = 0;
  std::string name;  // "" = unnamed
  absl::Time created = absl::UnixEpoch();
  bool attached = false;  // a client was heard within the attach window
  absl::Time last_contact = absl::InfinitePast();  // InfinitePast: never
  std::string last_client;                         // "203.0.113.7:51000", "" = none yet
  int width = 0;
  int height = 0;
  std::string foreground_command;  // the pty's foreground program, "" = unknown
  pid_t pid = 0;                   // the session process
  // Ended sessions only:
  bool ended = false;
  int exit_status = 0;      // of the session's program (128+N: killed by signal N)
  std::string end_reason;   // "shell exited", "killed by moshx serve --kill", ...
  absl::Time ended_at = absl::InfinitePast();
};

class SessionRegistry {
 public:
  static constexpr size_t kMaxEndedKept = 32;

  // Ok for "" (unnamed); InvalidArgument explaining the rule otherwise.
  static absl::Status ValidateName(absl::string_view name);

  // Adds a live session and returns its id. FailedPrecondition when a live
  // session already has that (non-empty) name.
  absl::StatusOr<uint64_t> Add(SessionRecord record);

  // The record for a target (name first, then id), live or ended. NotFound
  // with a message that lists the live sessions ("no session 'x'; sessions:
  // 1 (work), 2").
  absl::StatusOr<SessionRecord*> Find(absl::string_view target);
  SessionRecord* FindById(uint64_t id);
  SessionRecord* FindLiveByName(absl::string_view name);

  // The live, detached session whose last contact is newest (never-contacted
  // sessions count by creation time); nullptr when none.
  SessionRecord* MostRecentlyDetached();

  // Marks a session ended; the oldest ended records beyond kMaxEndedKept go.
  void MarkEnded(uint64_t id, int exit_status, std::string reason, absl::Time now);

  std::vector<const SessionRecord*> Live() const;
  std::vector<const SessionRecord*> All() const;
  size_t live_count() const;

  // One JSON object: {"sessions":[{...}, ...]} with every live session (and
  // with `include_ended` the ended ones), fields as in docs/sessions.md §2.
  std::string ToJson(bool include_ended) const;
  // A table for people, one line per live session, with a header line;
  // "no sessions" when there are none.
  std::string ToTable(absl::Time now) const;
  // "1 (work), 2": the live sessions for error messages; "none" if none.
  std::string Summary() const;

 private:
  uint64_t next_id_ = 1;
  std::map<uint64_t, SessionRecord> records_;
};

// A JSON string literal (with quotes) for arbitrary bytes: '"', '\\',
// control characters and every byte >= 0x80 are escaped (\u00XX: always
// valid JSON; non-ASCII text reads as Latin-1, acceptable for command names).
std::string JsonQuote(absl::string_view text);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_HOST_REGISTRY_H_
