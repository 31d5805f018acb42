#include "cmd/host/session_host.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/host/control_socket.h"
#include "cmd/host/relay_frame.h"
#include "cmd/host/relay_socket.h"
#include "net/packet_format.h"

namespace moshx::cmd {
namespace {

// The cleartext connection id: the first 8 bytes, big-endian
// (net/packet_format.h). The caller checked the length.
uint64_t ReadConnectionId(const std::string& datagram) {
  uint64_t id = 0;
  for (size_t i = 0; i < net::kConnectionIdSize; ++i) {
    id = (id << 8) | static_cast<uint8_t>(datagram[i]);
  }
  return id;
}

int IntField(const ControlMessage& m, absl::string_view key, int fallback) {
  std::optional<std::string> v = FindField(m, key);
  int out = 0;
  if (!v.has_value() || !absl::SimpleAtoi(*v, &out)) return fallback;
  return out;
}

std::string Describe(const SessionRecord& r) {
  return r.name.empty() ? absl::StrCat("session ", r.id)
                        : absl::StrCat("session ", r.id, " (", r.name, ")");
}

// The fields of `new` that the session process gets in its `start`.
constexpr absl::string_view kStartFields[] = {
    "width", "height", "term", "home", "shell", "network_timeout_ms", "signal_timeout_ms",
    "scrollback_lines", "env", "arg", "verbose"};

}  // namespace

struct SessionHost::Session {
  uint64_t id = 0;
  pid_t pid = 0;
  sys::ScopedFd relay;  // invalid once the session process closed it
  uint64_t connection_id = 0;
  std::string end_reason;  // the session's own `ended`, or why the host ended it
  // A pending attach: the control connection waiting, the new association.
  uint64_t attach_waiter = 0;
  NewAssociation attach_association;
  // The attach's new id while claimed with the router but not yet routed.
  uint64_t attach_claimed = 0;
  net::EventLoop::AlarmId attach_alarm = 0;
  // Pending kills: the control connections waiting for the end.
  std::vector<uint64_t> kill_waiters;
  net::EventLoop::AlarmId kill_alarm = 0;
};

struct SessionHost::Connection {
  sys::ScopedFd fd;
  bool other_build = false;  // its hello named another build
};

SessionHost::SessionHost(Deps deps)
    : deps_(std::move(deps)),
      loop_(deps_.loop),
      socket_(std::move(deps_.socket)),
      listener_(std::move(deps_.control_listener)) {
  in_.payload.reserve(net::kMaxReceiveSize);
  out_.reserve(kMaxRelayDatagramFrameSize);
  relay_in_.resize(kMaxRelayFrameSize + 1);
  started_ = deps_.now();
}

absl::StatusOr<std::unique_ptr<SessionHost>> SessionHost::Create(Deps deps) {
  if (deps.loop == nullptr || deps.clock == nullptr || deps.socket == nullptr || !deps.now || !deps.new_association ||
      !deps.launch || !deps.signal) {
    return absl::InvalidArgumentError("SessionHost needs every dependency");
  }
  std::unique_ptr<SessionHost> host(new SessionHost(std::move(deps)));
  absl::Status s = host->Start();
  if (!s.ok()) return s;
  return host;
}

absl::Status SessionHost::Start() {
  absl::Status s = loop_->WatchFd(socket_->fd(), net::EventLoop::kReadable,
                                  [this](uint32_t) { OnSocketReadable(); });
  if (!s.ok()) return s;
  if (listener_.valid()) {
    s = loop_->WatchFd(listener_.get(), net::EventLoop::kReadable,
                       [this](uint32_t) { OnListenerReadable(); });
  }
  return s;
}

SessionHost::~SessionHost() {
  for (auto& [id, session] : sessions_) {
    if (session->relay.valid()) loop_->UnwatchFd(session->relay.get());
    if (session->attach_alarm != 0) loop_->CancelAlarm(session->attach_alarm);
    if (session->kill_alarm != 0) loop_->CancelAlarm(session->kill_alarm);
  }
  for (auto& [id, c] : connections_) loop_->UnwatchFd(c->fd.get());
  if (listener_.valid()) loop_->UnwatchFd(listener_.get());
  loop_->UnwatchFd(socket_->fd());
}

// --- datagrams ---------------------------------------------------------------

void SessionHost::OnSocketReadable() {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    absl::Status s = socket_->ReceiveInto(&in_);
    if (absl::IsUnavailable(s)) return;
    if (absl::IsDataLoss(s)) {
      ++stats_.dropped_oversize;
      continue;
    }
    if (!s.ok()) {
      ++stats_.receive_errors;
      continue;
    }
    ++stats_.datagrams_received;
    if (in_.payload.size() < net::HeaderSize(net::WireMode::kMoshx) + net::kTagSize) {
      ++stats_.dropped_short;
      continue;
    }
    auto it = routes_.find(ReadConnectionId(in_.payload));
    if (it == routes_.end() || !it->second->relay.valid()) {
      ++stats_.dropped_unknown_id;
      continue;
    }
    if (!EncodeRelayDatagram(in_.from, in_.payload, in_.congestion_experienced, &out_).ok()) {
      ++stats_.dropped_oversize;
      continue;
    }
    const ssize_t n =
        send(it->second->relay.get(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(out_.size())) {
      ++stats_.routed;
    } else {
      ++stats_.dropped_session_busy;  // full (hung) or closing: never wait for it
    }
  }
}

void SessionHost::OnRelayReadable(uint64_t session_id) {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    Session* session = SessionById(session_id);
    if (session == nullptr || !session->relay.valid()) return;
    const ssize_t n = recv(session->relay.get(), relay_in_.data(), relay_in_.size(),
                           MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {  // the session process closed its end: it is ending
      CloseRelay(session);
      return;
    }
    if (static_cast<size_t>(n) > kMaxRelayFrameSize) {
      ++stats_.malformed_relay_frames;
      continue;
    }
    const absl::string_view bytes(relay_in_.data(), static_cast<size_t>(n));
    if (bytes[0] == kRelayDatagram) {
      absl::StatusOr<RelayDatagramView> d = ParseRelayDatagram(bytes);
      if (!d.ok()) {
        ++stats_.malformed_relay_frames;
        continue;
      }
      if (socket_->SendTo(d->address, d->datagram).ok()) {
        ++stats_.sent;
      } else {
        ++stats_.send_errors;
      }
      continue;
    }
    absl::StatusOr<RelayFrame> frame = ParseRelayFrame(bytes);
    if (!frame.ok()) {
      ++stats_.malformed_relay_frames;
      continue;
    }
    OnSessionControl(session, frame->control);
  }
}

void SessionHost::OnSessionControl(Session* session, const ControlMessage& message) {
  SessionRecord* r = registry_.FindById(session->id);
  if (message.verb == "status" && r != nullptr) {
    int64_t contact_ms = 0;
    std::optional<std::string> contact = FindField(message, "contact");
    if (contact.has_value() && absl::SimpleAtoi(*contact, &contact_ms) && contact_ms > 0) {
      r->last_contact = absl::FromUnixMillis(contact_ms);
    }
    if (std::optional<std::string> v = FindField(message, "client")) r->last_client = *v;
    r->width = IntField(message, "width", r->width);
    r->height = IntField(message, "height", r->height);
    if (std::optional<std::string> v = FindField(message, "foreground")) {
      r->foreground_command = *v;
    }
  } else if (message.verb == "retired") {
    uint64_t id = 0;
    if (absl::SimpleAtoi(FindField(message, "connection_id").value_or(""), &id) &&
        id != session->connection_id) {
      auto it = routes_.find(id);
      if (it != routes_.end() && it->second == session) Unroute(it);
    }
  } else if (message.verb == "ended") {
    if (std::optional<std::string> v = FindField(message, "reason")) session->end_reason = *v;
  } else if ((message.verb == "ok" || message.verb == "error") && session->attach_waiter != 0) {
    FinishAttach(session, message);
  }
}

void SessionHost::CloseRelay(Session* session) {
  if (!session->relay.valid()) return;
  loop_->UnwatchFd(session->relay.get());
  session->relay.reset();
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (it->second == session) {
      Unroute(it++);
    } else {
      ++it;
    }
  }
  ReleaseId(std::exchange(session->attach_claimed, 0));
}

absl::Status SessionHost::ClaimId(uint64_t connection_id) {
  if (!deps_.claim_id) return absl::OkStatus();
  return deps_.claim_id(connection_id);
}

void SessionHost::ReleaseId(uint64_t connection_id) {
  if (connection_id != 0 && deps_.release_id) deps_.release_id(connection_id);
}

void SessionHost::Unroute(absl::flat_hash_map<uint64_t, Session*>::iterator it) {
  const uint64_t id = it->first;
  routes_.erase(it);
  ReleaseId(id);
}

SessionHost::Session* SessionHost::SessionById(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

// --- session processes ------------------------------------------------------

void SessionHost::OnSessionProcessExited(pid_t pid, int wait_status) {
  Session* session = nullptr;
  for (auto& [id, s] : sessions_) {
    if (s->pid == pid) session = s.get();
  }
  if (session == nullptr) return;
  CloseRelay(session);
  int code = 0;
  std::string reason = session->end_reason.empty() ? "ended" : session->end_reason;
  if (WIFSIGNALED(wait_status)) {
    const int signo = WTERMSIG(wait_status);
    code = 128 + signo;
    if (session->kill_waiters.empty()) {
      reason = absl::StrCat("session process killed by signal ", signo, " (", strsignal(signo),
                            ")");
    }
  } else if (WIFEXITED(wait_status)) {
    code = WEXITSTATUS(wait_status);
  }
  if (!session->kill_waiters.empty()) reason = "killed by moshx serve --kill";
  if (session->attach_alarm != 0) loop_->CancelAlarm(session->attach_alarm);
  if (session->kill_alarm != 0) loop_->CancelAlarm(session->kill_alarm);
  if (session->attach_waiter != 0) {
    Answer(session->attach_waiter,
           ErrorReply(absl::FailedPreconditionError(absl::StrCat(
               "session ", session->id, " ended while attaching (", reason, ")"))));
  }
  const std::vector<uint64_t> waiters = std::move(session->kill_waiters);
  const uint64_t id = session->id;
  registry_.MarkEnded(id, code, reason, deps_.now());
  sessions_.erase(id);
  const SessionRecord* r = registry_.FindById(id);
  for (uint64_t w : waiters) {
    Answer(w, ControlMessage{"ok", {Field("id", absl::StrCat(id)),
                                    Field("name", r != nullptr ? r->name : ""),
                                    Field("exit_status", absl::StrCat(code))}});
  }
}

std::vector<pid_t> SessionHost::session_pids() const {
  std::vector<pid_t> out;
  for (const auto& [id, s] : sessions_) out.push_back(s->pid);
  return out;
}

void SessionHost::TerminateAll() {
  for (auto& [id, s] : sessions_) deps_.signal(s->pid, SIGTERM);
}

bool SessionHost::ShouldExit() const {
  if (!sessions_.empty() || !connections_.empty()) return false;
  return had_session_ || exiting_ || deps_.now() - started_ >= kIdleExit;
}

void SessionHost::BeginExit() {
  exiting_ = true;
  if (listener_.valid()) OnListenerReadable();  // whatever is queued gets its answer
}

// --- control connections ----------------------------------------------------

void SessionHost::OnListenerReadable() {
  while (true) {
    const int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN (nothing queued) or a transient error
    AddControlConnection(sys::ScopedFd(fd));
  }
}

void SessionHost::AddControlConnection(sys::ScopedFd connection) {
  absl::StatusOr<uid_t> peer = PeerUid(connection.get());
  if (!peer.ok() || *peer != deps_.uid) {
    // Another user (the directory's mode should have stopped them already).
    SendControlMessage(connection.get(),
                       ErrorReply(absl::PermissionDeniedError(
                           "permission denied: this session host belongs to another user")))
        .IgnoreError();
    return;
  }
  const int fd = connection.get();
  auto c = std::make_unique<Connection>();
  c->fd = std::move(connection);
  // Connections are keyed by descriptor while open; a descriptor number
  // reused later is a new key because the old entry is gone by then.
  if (!loop_->WatchFd(fd, net::EventLoop::kReadable, [this, fd](uint32_t) {
         OnControlReadable(fd);
       }).ok()) {
    return;
  }
  connections_[fd] = std::move(c);
}

void SessionHost::CloseControl(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  loop_->UnwatchFd(fd);
  connections_.erase(it);
  // Pending answers to this connection are dropped when they come.
  for (auto& [id, s] : sessions_) {
    if (s->attach_waiter == static_cast<uint64_t>(fd) + 1) s->attach_waiter = 0;
    auto& w = s->kill_waiters;
    w.erase(std::remove(w.begin(), w.end(), static_cast<uint64_t>(fd) + 1), w.end());
  }
}

void SessionHost::Answer(uint64_t waiter, const ControlMessage& reply) {
  if (waiter == 0) return;
  const int fd = static_cast<int>(waiter - 1);
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  if (!SendControlMessage(fd, reply).ok()) CloseControl(fd);
}

void SessionHost::OnControlReadable(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection* c = it->second.get();
  absl::StatusOr<ReceivedMessage> received = ReceiveControlMessage(fd, absl::ZeroDuration());
  if (absl::IsDeadlineExceeded(received.status())) return;  // spurious wakeup
  if (!received.ok()) {
    if (absl::IsInvalidArgument(received.status())) {
      Answer(fd + 1, ErrorReply(received.status()));
    }
    CloseControl(fd);
    return;
  }
  const ControlMessage& request = received->message;
  const uint64_t waiter = static_cast<uint64_t>(fd) + 1;
  if (exiting_) {
    Answer(waiter, ErrorReply(absl::UnavailableError("the session host is exiting")));
    return;
  }
  std::optional<ControlMessage> reply;
  if (request.verb == "hello") {
    reply = HandleHello(c, request);
  } else if (request.verb == "new") {
    reply = HandleNew(c, request);
  } else if (request.verb == "list") {
    reply = HandleList(request);
  } else if (request.verb == "kill") {
    reply = HandleKill(waiter, request);
  } else if (request.verb == "attach") {
    reply = HandleAttach(waiter, c, request);
  } else {
    reply = ErrorReply(
        absl::InvalidArgumentError(absl::StrCat("unknown request '", request.verb, "'")));
  }
  if (reply.has_value()) Answer(waiter, *reply);
}

ControlMessage SessionHost::HandleHello(Connection* c, const ControlMessage& request) {
  c->other_build = FindField(request, "build").value_or("") != deps_.build_id;
  return {"ok",
          {Field("build", deps_.build_id), Field("pid", absl::StrCat(deps_.pid)),
           Field("port", absl::StrCat(socket_->local_address().port())),
           Field("router", deps_.router)}};
}

namespace {

absl::Status OtherBuildError(const std::string& build, pid_t pid, const SessionRegistry& r) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the session host (pid ", pid, ") was started by another moshx build (", build,
      ") and still serves sessions ", r.Summary(),
      ". Use them with that build, or end them (moshx serve --kill ID, or kill ", pid,
      " to end them all); the next moshx serve then starts a host of this build"));
}

}  // namespace

ControlMessage SessionHost::ConnectReply(const SessionRecord& record,
                                         const NewAssociation& association) {
  ControlMessage reply{"ok",
                       {Field("id", absl::StrCat(record.id)), Field("name", record.name),
                        Field("port", absl::StrCat(socket_->local_address().port())),
                        Field("key", association.key.ToBase64()),
                        Field("connection_id", absl::StrFormat("%016x", association.connection_id)),
                        Field("pid", absl::StrCat(record.pid)),
                        Field("host_pid", absl::StrCat(deps_.pid))}};
  RefreshAttached();
  for (const SessionRecord* other : registry_.Live()) {
    if (other->id == record.id || other->attached) continue;
    reply.fields.push_back(Field("detached", absl::StrCat(other->id, ":", other->name)));
  }
  return reply;
}

ControlMessage SessionHost::HandleNew(Connection* c, const ControlMessage& request) {
  if (c->other_build) {
    return ErrorReply(OtherBuildError(deps_.build_id, deps_.pid, registry_));
  }
  const std::string name = FindField(request, "name").value_or("");
  if (absl::Status s = SessionRegistry::ValidateName(name); !s.ok()) return ErrorReply(s);
  if (registry_.FindLiveByName(name) != nullptr) {
    return ErrorReply(absl::AlreadyExistsError(absl::StrCat(
        "a session named '", name, "' already exists (moshx serve --attach ", name, ")")));
  }
  absl::StatusOr<NewAssociation> association = deps_.new_association();
  if (!association.ok()) return ErrorReply(association.status());
  if (routes_.contains(association->connection_id)) {
    return ErrorReply(absl::UnavailableError("connection id collision; try again"));
  }
  if (absl::Status s = ClaimId(association->connection_id); !s.ok()) {
    return ErrorReply(absl::Status(s.code(), absl::StrCat("moshx router: ", s.message())));
  }
  // Every refusal from here on gives the claimed id up again.
  auto refuse = [this, &association](const absl::Status& s) {
    ReleaseId(association->connection_id);
    return ErrorReply(s);
  };
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return refuse(absl::ErrnoToStatus(errno, "socketpair (relay)"));
  }
  sys::ScopedFd ours(pair[0]);
  sys::ScopedFd theirs(pair[1]);
  ControlMessage start{"start",
                       {Field("key", association->key.ToBase64()),
                        Field("connection_id", absl::StrCat(association->connection_id)),
                        Field("local_ip", socket_->local_address().IpString()),
                        Field("local_port", absl::StrCat(socket_->local_address().port()))}};
  for (const std::string& f : request.fields) {
    for (absl::string_view key : kStartFields) {
      if (absl::StartsWith(f, absl::StrCat(key, "="))) start.fields.push_back(f);
    }
  }
  // Queued before the process runs: it reads `start` first thing.
  if (absl::Status s = SendRelayControl(ours.get(), start); !s.ok()) return refuse(s);
  absl::StatusOr<pid_t> pid = deps_.launch(std::move(theirs));
  if (!pid.ok()) {
    return refuse(absl::Status(pid.status().code(),
                                   absl::StrCat("cannot start the session process: ",
                                                pid.status().message())));
  }
  const int flags = fcntl(ours.get(), F_GETFL);
  fcntl(ours.get(), F_SETFL, flags | O_NONBLOCK);
  SessionRecord record;
  record.name = name;
  record.created = deps_.now();
  record.width = IntField(request, "width", 80);
  record.height = IntField(request, "height", 24);
  record.pid = *pid;
  absl::StatusOr<uint64_t> id = registry_.Add(record);
  if (!id.ok()) {  // validated above: not expected
    deps_.signal(*pid, SIGKILL);
    return refuse(id.status());
  }
  auto session = std::make_unique<Session>();
  session->id = *id;
  session->pid = *pid;
  session->connection_id = association->connection_id;
  const int relay_fd = ours.get();
  session->relay = std::move(ours);
  const uint64_t sid = *id;
  if (absl::Status s = loop_->WatchFd(relay_fd, net::EventLoop::kReadable,
                                      [this, sid](uint32_t) { OnRelayReadable(sid); });
      !s.ok()) {
    deps_.signal(*pid, SIGKILL);
    session->relay.reset();
    sessions_[sid] = std::move(session);
    return refuse(s);
  }
  routes_[association->connection_id] = session.get();
  sessions_[sid] = std::move(session);
  had_session_ = true;
  return ConnectReply(*registry_.FindById(sid), *association);
}

void SessionHost::RefreshAttached() {
  const absl::Time now = deps_.now();
  for (const SessionRecord* live : registry_.Live()) {
    SessionRecord* r = registry_.FindById(live->id);
    r->attached = r->last_contact != absl::InfinitePast() && now - r->last_contact < kAttachedWindow;
  }
}

ControlMessage SessionHost::HandleList(const ControlMessage& request) {
  RefreshAttached();
  const bool ended = FindField(request, "ended").value_or("") == "1";
  return {"ok",
          {Field("json", registry_.ToJson(ended)), Field("table", registry_.ToTable(deps_.now())),
           Field("summary", registry_.Summary()),
           Field("stats",
                 absl::StrFormat(
                     "{\"pid\":%d,\"port\":%d,\"routes\":%d,\"datagrams_received\":%d,"
                     "\"routed\":%d,\"dropped_unknown_id\":%d,\"dropped_short\":%d,"
                     "\"dropped_session_busy\":%d,\"sent\":%d}",
                     static_cast<int>(deps_.pid), socket_->local_address().port(), routes_.size(),
                     stats_.datagrams_received, stats_.routed, stats_.dropped_unknown_id,
                     stats_.dropped_short, stats_.dropped_session_busy, stats_.sent)),
           Field("port", absl::StrCat(socket_->local_address().port())),
           Field("router", deps_.router)}};
}

std::optional<ControlMessage> SessionHost::HandleKill(uint64_t waiter,
                                                      const ControlMessage& request) {
  absl::StatusOr<SessionRecord*> r = registry_.Find(FindField(request, "target").value_or(""));
  if (!r.ok()) return ErrorReply(r.status());
  if ((*r)->ended) {
    return ErrorReply(absl::FailedPreconditionError(
        absl::StrCat(Describe(**r), " already ended: exit status ", (*r)->exit_status, " (",
                     (*r)->end_reason, ")")));
  }
  Session* session = SessionById((*r)->id);
  if (session == nullptr) return ErrorReply(absl::InternalError("session without a process"));
  session->kill_waiters.push_back(waiter);
  if (session->kill_alarm == 0) {
    deps_.signal(session->pid, SIGTERM);
    const uint64_t sid = session->id;
    session->kill_alarm =
        loop_->ScheduleAlarm(deps_.clock->Now() + kAnswerTimeout, [this, sid] {
          Session* s = SessionById(sid);
          if (s == nullptr) return;
          s->kill_alarm = 0;
          deps_.signal(s->pid, SIGKILL);
        });
  }
  return std::nullopt;
}

std::optional<ControlMessage> SessionHost::HandleAttach(uint64_t waiter, Connection* c,
                                                        const ControlMessage& request) {
  if (c->other_build) {
    return ErrorReply(OtherBuildError(deps_.build_id, deps_.pid, registry_));
  }
  RefreshAttached();
  const std::string target = FindField(request, "target").value_or("");
  SessionRecord* r = nullptr;
  if (target.empty()) {
    r = registry_.MostRecentlyDetached();
    if (r == nullptr) {
      return ErrorReply(absl::NotFoundError(
          absl::StrCat("no detached session; sessions: ", registry_.Summary())));
    }
  } else {
    absl::StatusOr<SessionRecord*> found = registry_.Find(target);
    if (!found.ok()) return ErrorReply(found.status());
    r = *found;
  }
  if (r->ended) {
    return ErrorReply(absl::FailedPreconditionError(
        absl::StrCat(Describe(*r), " has ended: exit status ", r->exit_status, " (",
                     r->end_reason, ")")));
  }
  Session* session = SessionById(r->id);
  if (session == nullptr || !session->relay.valid()) {
    return ErrorReply(absl::UnavailableError(absl::StrCat(Describe(*r), " is ending")));
  }
  if (session->attach_waiter != 0) {
    return ErrorReply(
        absl::UnavailableError(absl::StrCat("another attach to ", Describe(*r), " is under way")));
  }
  absl::StatusOr<NewAssociation> association = deps_.new_association();
  if (!association.ok()) return ErrorReply(association.status());
  if (routes_.contains(association->connection_id)) {
    return ErrorReply(absl::UnavailableError("connection id collision; try again"));
  }
  if (absl::Status s = ClaimId(association->connection_id); !s.ok()) {
    return ErrorReply(absl::Status(s.code(), absl::StrCat("moshx router: ", s.message())));
  }
  ControlMessage attach{"attach",
                        {Field("key", association->key.ToBase64()),
                         Field("connection_id", absl::StrCat(association->connection_id)),
                         Field("client", FindField(request, "client").value_or(""))}};
  // The history lines the new client gets first: the session decides the
  // default when the request has none (an older `moshx serve`).
  if (std::optional<std::string> history = FindField(request, "history")) {
    attach.fields.push_back(Field("history", *history));
  }
  absl::StatusOr<std::string> frame = EncodeRelayControl(attach);
  if (!frame.ok()) {
    ReleaseId(association->connection_id);
    return ErrorReply(frame.status());
  }
  if (send(session->relay.get(), frame->data(), frame->size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
      static_cast<ssize_t>(frame->size())) {
    ReleaseId(association->connection_id);
    return ErrorReply(absl::UnavailableError(
        absl::StrCat(Describe(*r), " does not take requests (its process may be hung)")));
  }
  session->attach_waiter = waiter;
  session->attach_association = *association;
  session->attach_claimed = association->connection_id;
  const uint64_t sid = session->id;
  session->attach_alarm = loop_->ScheduleAlarm(deps_.clock->Now() + kAnswerTimeout, [this, sid] {
    Session* s = SessionById(sid);
    if (s == nullptr) return;
    s->attach_alarm = 0;
    ReleaseId(std::exchange(s->attach_claimed, 0));
    const uint64_t w = std::exchange(s->attach_waiter, 0);
    Answer(w, ErrorReply(absl::DeadlineExceededError(absl::StrCat(
                  "session ", sid, " did not answer the attach within ",
                  absl::FormatDuration(kAnswerTimeout), " (its process may be hung)"))));
  });
  return std::nullopt;
}

void SessionHost::FinishAttach(Session* session, const ControlMessage& answer) {
  const uint64_t waiter = std::exchange(session->attach_waiter, 0);
  if (session->attach_alarm != 0) {
    loop_->CancelAlarm(session->attach_alarm);
    session->attach_alarm = 0;
  }
  const uint64_t claimed = std::exchange(session->attach_claimed, 0);
  if (answer.verb != "ok") {
    ReleaseId(claimed);
    absl::Status s = ReplyStatus(answer);
    Answer(waiter, ErrorReply(s.ok() ? absl::InternalError("bad attach answer") : s));
    return;
  }
  // The new id routes to the session from now on. The old one keeps routing
  // there until the session process reports it `retired`: the superseded
  // client's acknowledgement must reach it (docs/sessions.md §5); the
  // session ignores everything else from that client.
  session->connection_id = session->attach_association.connection_id;
  routes_[session->connection_id] = session;
  SessionRecord* r = registry_.FindById(session->id);
  if (r == nullptr) return;
  Answer(waiter, ConnectReply(*r, session->attach_association));
}

}  // namespace moshx::cmd
