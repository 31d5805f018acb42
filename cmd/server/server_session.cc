#include "cmd/server/server_session.h"

#include <termios.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/mosh_model.h"

namespace moshx::cmd {
namespace {

// The emulator keeps scrolled-off lines only where a history stream can
// carry them (moshx mode).
term::Emulator::Options EmulatorOptions(const ServerSessionOptions& options) {
  term::Emulator::Options o;
  o.scrollback_lines = options.mode == net::WireMode::kMoshx ? options.scrollback_lines : 0;
  return o;
}

// mosh reads at most this much pty output per loop iteration
// (docs/protocol.md §10.2): a flood cannot delay the keystrokes (Ctrl-C)
// waiting on the socket.
constexpr size_t kPtyReadChunk = 16384;
// Plain text (printable ASCII, CR, LF) is gathered up to this much instead:
// the emulator's plain-text fast path costs about the same per Feed however
// long the Feed (it parses a screenful of tail and cuts the lines it keeps
// as text), so a plain flood is fed in a quarter as many Feeds (`seq 1
// 3000000`: docs/benchmarks.md). Anything else goes through libvterm line by
// line, so it stays at kPtyReadChunk per turn of the loop.
constexpr size_t kPlainPtyReadChunk = 65536;

// ECHO_TIMEOUT: keystrokes count as echoed this long after reaching the pty.
constexpr absl::Duration kEchoTimeout = absl::Milliseconds(50);
// moshx pty state: "settled" after this long without output or mode change.
constexpr absl::Duration kPtySettleTime = absl::Milliseconds(20);
// The pty state's return to "settled" after output is a state of its own,
// sent one frame interval after the output's frame. It is held back until
// the pty was quiet for kQuietAnnounce while nobody typed for kTypingWindow,
// and whenever the shell is not in the foreground (the client trusts a
// settled report only at the shell's own prompt, docs/prediction.md §A.8:
// in vim, less or top the flip would be a state nobody reads). So output
// that keeps coming (`top`, `watch`, a build) or a full-screen program
// driven by keys (paging in vim) costs one state per screen, as in mosh,
// instead of two (with loss every state risks a burst of resends;
// docs/benchmarks.md, "Wire bytes of `top` with loss"). Holding it back can
// only keep the client from trusting its first keystroke at once, never
// make it predict wrongly. The flip also waits for the echo ack of the keys
// before it (kEchoTimeout after the newest), without which the client
// trusts no report: a key typed at the prompt costs two states (its echo,
// then the flip with the echo ack), as in mosh (echo, echo ack), not three.
constexpr absl::Duration kTypingWindow = absl::Seconds(5);
constexpr absl::Duration kQuietAnnounce = absl::Seconds(2);
// The end of an answer (net::SendScheduler::MarkAnswerEnd, docs/protocol.md
// §6.4): once the output that followed input has stopped for kAnswerQuiet,
// what of it was not sent yet (the prompt after a command's output) leaves
// at once instead of up to a frame interval later. An echo or a redrawn
// screen has gone out with the replies to input already (nothing is left
// to send: the mark lapses). Output that pauses that long mid-way (a
// loaded machine) uses up one of kAnswerMarks per input, each an early
// frame at most; the rest wait for the interval as before.
constexpr absl::Duration kAnswerQuiet = absl::Milliseconds(15);
constexpr int kAnswerMarks = 3;
// After an interrupting key (Ctrl-C, Ctrl-\, Ctrl-Z) the answer is short and
// quick (the flood's last lines, "^C", the prompt: a shell prints it within a
// millisecond or two of reaping the job), and the first urgent frame has
// usually left already with the echoed "^C": without this the prompt waited
// the collection delay (8 ms) behind it. So its end is marked after 3 ms of
// quiet (docs/protocol.md §6.4).
constexpr absl::Duration kInterruptAnswerQuiet = absl::Milliseconds(3);
// A long answer (net::SendScheduler::MarkLongAnswer, docs/protocol.md §6.4):
// once the output after input passes this many screens of cells (a flood,
// not an echo, a prompt or a redrawn page), the replies to the input stop
// after their first frame: the frames after it would carry screens of the
// flood that the next one overwrites (`base64` of 1.5 MB at 500 ms RTT sent
// three full screens where mosh sends two, docs/benchmarks.md).
constexpr uint64_t kLongAnswerScreens = 2;
// While unconnected or shutting down, wake at least this often
// (docs/protocol.md §10.1).
constexpr absl::Duration kIdleWake = absl::Seconds(5);

bool IsPlainByte(unsigned char c) { return (c >= 0x20 && c <= 0x7e) || c == '\r' || c == '\n'; }

}  // namespace

bool IsPlainPtyOutput(absl::string_view text) {
  const char* bytes = text.data();
  const size_t n = text.size();
  // Blocks without a branch per byte (the compiler vectorizes the inner
  // loop): this runs over every byte a flood writes.
  constexpr size_t kBlock = 64;
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    unsigned plain = 1;
    for (size_t k = 0; k < kBlock; ++k) {
      plain &= static_cast<unsigned>(IsPlainByte(static_cast<unsigned char>(bytes[i + k])));
    }
    if (plain == 0) return false;
  }
  for (; i < n; ++i) {
    if (!IsPlainByte(static_cast<unsigned char>(bytes[i]))) return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<ServerSession>> ServerSession::Create(
    net::TransportDeps deps, const net::SessionKey& key, const ServerSessionOptions& options,
    PtySpawner spawner) {
  std::unique_ptr<ServerSession> session(
      new ServerSession(deps.loop, deps.clock, deps.rng, options, std::move(spawner)));
  if (options.mode == net::WireMode::kMoshx && deps.path == nullptr && deps.socket != nullptr) {
    // The association is the dispatcher's, so that an attach can add another.
    auto dispatcher =
        net::Dispatcher::Create(deps.loop, std::move(deps.socket), net::WireMode::kMoshx);
    if (!dispatcher.ok()) return dispatcher.status();
    session->dispatcher_ = std::move(*dispatcher);
    auto path = session->dispatcher_->AddAssociation(options.connection_id, std::nullopt);
    if (!path.ok()) return path.status();
    deps.path = std::move(*path);
    deps.socket_factory = nullptr;
  }
  net::TransportConfig config;
  config.role = net::Role::kServer;
  config.mode = options.mode;
  config.connection_id = options.connection_id;
  config.first_seq = options.first_seq;
  auto transport = ServerTransport::Create(std::move(deps), key, config,
                                           protocol::TerminalState(options.width, options.height),
                                           protocol::UserStream());
  if (!transport.ok()) return transport.status();
  if (absl::Status hooked = session->Hook(transport->get()); !hooked.ok()) return hooked;
  session->transport_ = std::move(*transport);
  session->used_keys_.push_back(key);
  return session;
}

absl::Status ServerSession::Hook(ServerTransport* transport) {
  transport->set_on_remote_state([this] { OnRemoteState(); });
  if (options_.mode == net::WireMode::kMoshx) {
    net::stream::MuxConfig mux;
    mux.is_server = true;
    auto streams = net::stream::AssociationStreams::Create(loop_, clock_, &transport->core(), mux);
    if (!streams.ok()) return streams.status();
    history_.reset();  // the old association's history stream ends with it
    streams_ = std::move(*streams);
    // The first stream the server opens: the history (docs/protocol.md §7.6).
    history_ = std::make_unique<HistorySender>(&streams_->mux(), &emulator_, loop_, clock_,
                                               options_.scrollback_lines, &history_ring_,
                                               replay_lines_);
    replay_lines_ = 0;
    net::stream::AssociationStreams* s = streams_.get();
    transport->set_remote_address_observer([s](std::optional<net::Address> a) {
      if (a.has_value()) s->OnPathChange();
    });
  }
  if (options_.snapshot_per_send) {
    transport->set_before_send([this] { PublishIfStale(); });
  }
  return absl::OkStatus();
}

ServerSession::ServerSession(net::EventLoop* loop, const net::Clock* clock, absl::BitGenRef rng,
                             const ServerSessionOptions& options, PtySpawner spawner)
    : loop_(loop),
      clock_(clock),
      rng_(rng),
      options_(options),
      spawner_(std::move(spawner)),
      emulator_(options.width, options.height, EmulatorOptions(options)),
      history_ring_(options.mode == net::WireMode::kMoshx ? options.scrollback_lines : 0),
      start_time_(clock->Now()),
      last_client_state_time_(clock->Now()) {}

absl::Status ServerSession::Reassociate(net::SessionKey key, uint64_t connection_id,
                                        size_t history_lines) {
  if (options_.mode != net::WireMode::kMoshx) {
    return absl::FailedPreconditionError(
        "a mosh-mode session cannot be attached (mosh's wire has no connection ids)");
  }
  if (dispatcher_ == nullptr) {
    return absl::FailedPreconditionError(
        "this session runs on a path of its own, not a socket it can share with a new "
        "association");
  }
  if (done_ || shutting_down_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the session is ending (", done_ ? exit_reason_ : shutdown_reason_, ")"));
  }
  for (const net::SessionKey& used : used_keys_) {
    if (used == key) {
      return absl::InvalidArgumentError(
          "this key served an association of this session before: an attach needs a fresh key");
    }
  }
  auto path = dispatcher_->AddAssociation(connection_id, std::nullopt);
  if (!path.ok()) return path.status();
  net::TransportConfig config;
  config.role = net::Role::kServer;
  config.mode = net::WireMode::kMoshx;
  config.connection_id = connection_id;
  net::TransportDeps deps{loop_, clock_, nullptr, nullptr, rng_};
  deps.path = std::move(*path);
  auto fresh = ServerTransport::Create(std::move(deps), key, config,
                                       protocol::TerminalState(options_.width, options_.height),
                                       protocol::UserStream());
  if (!fresh.ok()) return fresh.status();
  // Up to here nothing changed. Hook() replaces streams_: the old
  // association's streams end here.
  replay_lines_ = history_lines;
  if (absl::Status hooked = Hook(fresh->get()); !hooked.ok()) return hooked;
  const net::MonoTime now = clock_->Now();
  std::unique_ptr<ServerTransport> old = std::move(transport_);
  old->set_on_remote_state([this] { ++attach_stats_.revoked_states_ignored; });
  old->set_before_send(nullptr);
  old->set_remote_address_observer(nullptr);
  retiring_.push_back(Retiring{std::move(old), now, false});
  transport_ = std::move(*fresh);
  used_keys_.push_back(key);
  ++attach_stats_.reassociations;
  // The new client's numbering starts again: its user stream, its echo acks.
  last_remote_num_ = 0;
  consumed_events_ = 0;
  input_frames_.clear();
  last_client_state_time_ = now;
  if (!heard_client_) start_time_ = now;  // the new client gets the whole connect timeout
  // The first state: the whole screen (modes and title are the
  // framebuffer's) and the pty state, against a blank state 0.
  PublishScreen();
  return absl::OkStatus();
}

void ServerSession::ServiceRetiring(net::MonoTime now) {
  const std::optional<net::Address> new_client = transport_->connection().remote_address();
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    ServerTransport& t = *it->transport;
    bool remove = false;
    if (!it->told) {
      if (!t.connection().has_remote_address()) {
        remove = true;  // no client (any more) to tell
      } else if (new_client.has_value() || now - it->revoked >= kSupersedeAddressWait) {
        protocol::Superseded superseded;
        if (new_client.has_value()) superseded.new_client_address = new_client->ToString();
        t.mutable_local_state().set_superseded(std::move(superseded));
        t.StartShutdown();
        it->told = true;
      }
    } else {
      remove = t.shutdown_acknowledged() || t.shutdown_ack_timed_out() ||
               !t.connection().has_remote_address() ||
               (t.counterparty_shutting_down() && t.counterparty_shutdown_ack_sent());
    }
    if (remove) {
      ++attach_stats_.associations_retired;
      it = retiring_.erase(it);  // its path leaves the dispatcher: later datagrams are drops
    } else {
      ++it;
    }
  }
}

ServerSession::~ServerSession() {
  if (pty_ != nullptr) loop_->UnwatchFd(pty_->master_fd());
}

void ServerSession::OnRemoteState() {
  net::MonoTime now = clock_->Now();
  const uint64_t num = transport_->remote_state_num();
  if (num == last_remote_num_ || num == net::kShutdownNum) return;
  last_remote_num_ = num;
  heard_client_ = true;
  last_client_state_time_ = now;
  const protocol::UserStream& stream = transport_->remote_state();
  std::vector<protocol::UserEvent> events = stream.EventsSince(consumed_events_);
  consumed_events_ = stream.end_index();
  if (!events.empty()) {
    input_frames_.emplace_back(num, now);
    last_input_time_ = now;
    answer_marks_left_ = kAnswerMarks;
    answer_output_ = false;
    answer_quiet_ = kAnswerQuiet;  // ConsumeEvents shortens it for an interrupt
    answer_bytes_ = 0;
    long_answer_ = false;
  }
  if (pty_ == nullptr && !shutting_down_) {
    // The shell starts with the client's first state, at the client's size.
    int width = options_.width, height = options_.height;
    for (const protocol::UserEvent& e : events) {
      if (e.is_resize) width = e.width, height = e.height;
    }
    absl::Status started = StartShell(width, height);
    if (!started.ok()) {
      emulator_.Resize(width, height);
      // Our own text asks the terminal nothing: there are no answers to send.
      (void)emulator_.Feed(absl::StrCat("\r\nmoshx: cannot start the shell: ",
                                        started.message(), "\r\n"));
      PublishScreen();
      BeginShutdown(absl::StrCat("cannot start the shell: ", started.message()));
      return;
    }
  }
  ConsumeEvents(events);
}

absl::Status ServerSession::StartShell(int width, int height) {
  sys::WindowSize size;
  size.cols = static_cast<uint16_t>(width);
  size.rows = static_cast<uint16_t>(height);
  absl::StatusOr<std::unique_ptr<sys::Pty>> pty = spawner_(size);
  if (!pty.ok()) return pty.status();
  pty_ = std::move(*pty);
  last_pty_activity_ = clock_->Now();
  last_input_time_ = last_pty_activity_;  // the start counts as typing
  emulator_.Resize(width, height);
  PublishScreen();
  return loop_->WatchFd(pty_->master_fd(), net::EventLoop::kReadable,
                        [this](uint32_t events) { OnPtyEvents(events); });
}

void ServerSession::ConsumeEvents(const std::vector<protocol::UserEvent>& events) {
  if (pty_ == nullptr) return;
  // Keystrokes are translated with the cursor-key mode as of all output read.
  if (!events.empty()) PublishIfStale();
  const bool app_cursor = transport_->local_state().framebuffer().modes().application_cursor_keys;
  for (size_t i = 0; i < events.size(); ++i) {
    const protocol::UserEvent& e = events[i];
    if (!e.is_resize) {
      typed_ = true;
      // The answer to Ctrl-C (the prompt after a flood) must not wait for
      // a retransmission if a datagram is lost.
      if (protocol::IsInterruptKey(e.byte)) {
        transport_->MarkUrgent();
        answer_quiet_ = kInterruptAnswerQuiet;
      }
      if (pending_pty_input_.size() >= kMaxPendingPtyInput) {
        ++pty_input_dropped_bytes_;
      } else {
        translator_.Translate(e.byte, app_cursor, &pending_pty_input_);
      }
      continue;
    }
    // Only the last of a run of resizes reaches the pty (mosh 1.4 fix).
    if (i + 1 < events.size() && events[i + 1].is_resize) continue;
    sys::WindowSize size;
    size.cols = static_cast<uint16_t>(e.width);
    size.rows = static_cast<uint16_t>(e.height);
    // A pty that is gone shows up as end of stream on the next read.
    pty_->Resize(size).IgnoreError();
    emulator_.Resize(e.width, e.height);
    PublishScreen();
  }
  FlushPtyInput();
}

void ServerSession::FlushPtyInput() {
  if (pty_ == nullptr || pending_pty_input_.empty()) return;
  absl::StatusOr<size_t> written = pty_->Write(pending_pty_input_);
  if (!written.ok()) {
    BeginShutdown(sys::IsEndOfStream(written.status()) ? "shell exited"
                                                        : std::string(written.status().message()));
    return;
  }
  pending_pty_input_.erase(0, *written);
  // Watch for writability only while input is waiting.
  uint32_t events = net::EventLoop::kReadable;
  if (!pending_pty_input_.empty()) events |= net::EventLoop::kWritable;
  // The loop refuses a watch only for a bad descriptor; the master is open.
  loop_->WatchFd(pty_->master_fd(), events, [this](uint32_t ev) { OnPtyEvents(ev); })
      .IgnoreError();
}

void ServerSession::OnPtyEvents(uint32_t events) {
  if (events & net::EventLoop::kWritable) FlushPtyInput();
  if (events & (net::EventLoop::kReadable | net::EventLoop::kError)) ReadPty();
}

void ServerSession::ReadPty() {
  if (pty_ == nullptr || shutting_down_) return;
  // A pty hands out at most about 4 KiB per read(2): what is there, up to
  // kPtyReadChunk (kPlainPtyReadChunk while it is all plain text), is
  // gathered first, so the emulator's cost per Feed (a flood parses a
  // screenful of its tail every time) is paid per 16 or 64 KiB.
  char buffer[kPlainPtyReadChunk];
  size_t got = 0;
  bool ended = false;
  bool plain = true;
  while (got < kPtyReadChunk || (plain && got < kPlainPtyReadChunk)) {
    const size_t room = (plain ? kPlainPtyReadChunk : kPtyReadChunk) - got;
    absl::StatusOr<size_t> n = pty_->Read(buffer + got, room);
    if (!n.ok()) {
      ended = true;  // end of stream; what came before it is still shown
      break;
    }
    if (*n == 0) break;
    plain = plain && IsPlainPtyOutput(absl::string_view(buffer + got, *n));
    got += *n;
  }
  if (got > 0) FeedEmulator(absl::string_view(buffer, got));
  if (ended && !shutting_down_) {
    loop_->UnwatchFd(pty_->master_fd());
    BeginShutdown("shell exited");
  }
}

void ServerSession::FeedEmulator(absl::string_view output) {
  last_pty_activity_ = clock_->Now();
  last_output_time_ = last_pty_activity_;
  answer_output_ = true;
  output_since_release_ += output.size();
  if (!long_answer_) {
    answer_bytes_ += output.size();
    const uint64_t screen = static_cast<uint64_t>(emulator_.width()) * emulator_.height();
    if (answer_bytes_ > kLongAnswerScreens * screen) {
      long_answer_ = true;
      transport_->MarkLongAnswer();
    }
  }
  if (options_.on_pty_output) options_.on_pty_output(output);
  std::string answers = emulator_.Feed(output);
  screen_stale_ = true;
  if (!answers.empty()) {
    // Replies to DA/DSR queries go to the application, whole or not at all.
    if (pending_pty_input_.size() + answers.size() > kMaxPendingPtyInput) {
      pty_input_dropped_bytes_ += answers.size();
    } else {
      pending_pty_input_ += answers;
    }
    FlushPtyInput();
    if (shutting_down_) return;  // the shell is gone; the screen went out with the shutdown
  }
  // Once a send is pending, the screen is taken when it goes out.
  if (!options_.snapshot_per_send || !transport_->send_pending()) PublishScreen();
}

void ServerSession::PublishIfStale() {
  if (screen_stale_ && !shutting_down_) PublishScreen();
}

void ServerSession::PublishScreen() {
  screen_stale_ = false;
  UpdatePtyState(clock_->Now());
  core::Framebuffer fb = emulator_.Snapshot();
  // mosh mode: both kinds of client must draw the same cells, so the screen
  // is sent as mosh's emulator would hold it (no faint or strikethrough,
  // mosh's colour numbers).
  if (options_.mode == net::WireMode::kMosh) core::ToMoshModel(&fb);
  if (fb == transport_->local_state().framebuffer()) return;
  transport_->mutable_local_state().set_framebuffer(std::move(fb));
}

void ServerSession::UpdatePtyState(net::MonoTime now) {
  if (options_.mode != net::WireMode::kMoshx || pty_ == nullptr) return;
  absl::StatusOr<sys::TerminalModes> modes = pty_->GetTerminalModes();
  if (!modes.ok()) return;
  protocol::PtyState state;
  state.echo = modes->echo;
  state.canonical = modes->canonical;
  const pid_t group = tcgetpgrp(pty_->master_fd());
  state.foreground = group > 0 ? static_cast<uint32_t>(group) : 0;
  state.shell_foreground = group > 0 && group == pty_->child_pid();
  state.fresh = !typed_;
  const std::optional<protocol::PtyState>& old = transport_->local_state().pty_state();
  if (old.has_value()) {
    protocol::PtyState unsettled = *old;
    unsettled.settled = false;
    unsettled.fresh = state.fresh;  // the first keystroke is not pty activity
    if (unsettled != state) last_pty_activity_ = now;
  }
  state.settled = now - last_pty_activity_ >= kPtySettleTime;
  if (state.settled && old.has_value() && !old->settled && !AnnouncesSettled(state, now)) {
    state.settled = false;  // the flip is held back (kQuietAnnounce); other changes are not
  }
  if (old != state) {
    transport_->mutable_local_state().set_pty_state(state);
  }
}

bool ServerSession::AnnouncesSettled(const protocol::PtyState& state, net::MonoTime now) const {
  // The client trusts a report only once its echo ack covers every key typed
  // (docs/prediction.md §A.8): a flip sent before that ack would be a state
  // of its own that nobody can use yet, so it goes with the ack.
  if (EchoAckPending(now)) return false;
  if (now - last_pty_activity_ >= kQuietAnnounce) return true;
  return state.shell_foreground && now - last_input_time_ < kTypingWindow;
}

bool ServerSession::EchoAckPending(net::MonoTime now) const {
  return !input_frames_.empty() && input_frames_.back().second + kEchoTimeout > now;
}

void ServerSession::UpdateEchoAck(net::MonoTime now) {
  uint64_t ack = transport_->local_state().echo_ack();
  while (!input_frames_.empty() && input_frames_.front().second <= now - kEchoTimeout) {
    ack = std::max(ack, input_frames_.front().first);
    input_frames_.pop_front();
  }
  if (ack != transport_->local_state().echo_ack()) {
    transport_->mutable_local_state().set_echo_ack(ack);
  }
}

void ServerSession::Service() {
  if (done_) return;
  net::MonoTime now = clock_->Now();
  if (!retiring_.empty()) ServiceRetiring(now);
  if (!shutting_down_) {
    UpdatePtyState(now);
    UpdateEchoAck(now);
    if (answer_marks_left_ > 0 && options_.mark_answer_end && answer_output_ &&
        now - last_output_time_ >= answer_quiet_) {
      answer_output_ = false;
      transport_->MarkAnswerEnd();
      --answer_marks_left_;
    }
    // History goes out here, once per turn of the loop, after the turn's
    // keys reached the pty (lines wait in the emulator meanwhile).
    if (history_ != nullptr) history_->Pump();
    MaybeReleaseMemory(now);
  }
  if (transport_->counterparty_shutting_down() && transport_->counterparty_shutdown_ack_sent()) {
    return Finish("the client ended the session", true);
  }
  if (shutting_down_) {
    if (transport_->shutdown_acknowledged()) return Finish(shutdown_reason_, true);
    if (!transport_->connection().has_remote_address()) return Finish(shutdown_reason_, false);
    if (transport_->shutdown_ack_timed_out()) return Finish(shutdown_reason_, false);
    return;
  }
  if (!heard_client_ && now - start_time_ >= options_.connect_timeout) {
    return Finish(absl::StrCat("No connection within ",
                               absl::ToInt64Seconds(options_.connect_timeout), " seconds."),
                  false);
  }
  if (options_.network_timeout > absl::ZeroDuration() &&
      now - last_client_state_time_ >= options_.network_timeout) {
    // mosh sends the shutdown state once and exits without waiting
    // (docs/protocol.md §10.3).
    BeginShutdown(absl::StrCat("Network idle for ",
                               absl::ToInt64Seconds(options_.network_timeout), " seconds."));
    transport_->core().Tick();
    return Finish(shutdown_reason_, false);
  }
}

bool ServerSession::ReleaseDue(net::MonoTime now) const {
  return output_since_release_ >= kReleaseAfterOutput && now - last_output_time_ >= kReleaseQuiet &&
         (history_ == nullptr || history_->drained());
}

void ServerSession::MaybeReleaseMemory(net::MonoTime now) {
  if (!ReleaseDue(now)) return;
  output_since_release_ = 0;
  if (history_ != nullptr) {
    history_->ReleaseIdleBuffers();  // the streams' buffers too
  } else if (streams_ != nullptr) {
    streams_->mux().ReleaseIdleBuffers();
  }
  if (options_.release_free_memory) options_.release_free_memory();
}

absl::Duration ServerSession::WaitTime() const {
  net::MonoTime now = clock_->Now();
  absl::Duration wait = absl::InfiniteDuration();
  // A history backlog goes out a few batches per turn (HistorySender::Pump).
  if (history_ != nullptr && !shutting_down_ && history_->has_more()) {
    wait = absl::ZeroDuration();
  }
  if (!input_frames_.empty() && !shutting_down_) {  // no echo acks while shutting down
    wait = std::min(wait, std::max(absl::ZeroDuration(),
                                   input_frames_.front().second + kEchoTimeout - now));
  }
  const std::optional<protocol::PtyState>& pty_state = transport_->local_state().pty_state();
  if (pty_state.has_value() && !pty_state->settled && !shutting_down_) {
    net::MonoTime settle = last_pty_activity_ + kPtySettleTime;
    if (settle <= now && !AnnouncesSettled(*pty_state, now)) {
      settle = last_pty_activity_ + kQuietAnnounce;
    }
    wait = std::min(wait, std::max(absl::ZeroDuration(), settle - now));
  }
  // One wake at the end of a burst's quiet time (MaybeReleaseMemory); while
  // the history stream drains, its acknowledgements wake the loop instead.
  if (!shutting_down_ && output_since_release_ >= kReleaseAfterOutput &&
      (history_ == nullptr || history_->drained())) {
    wait = std::min(wait, std::max(absl::ZeroDuration(), last_output_time_ + kReleaseQuiet - now));
  }
  if (answer_marks_left_ > 0 && options_.mark_answer_end && !shutting_down_ &&
      answer_output_) {
    wait = std::min(wait, std::max(absl::ZeroDuration(), last_output_time_ + answer_quiet_ - now));
  }
  if (!heard_client_ || shutting_down_) wait = std::min(wait, kIdleWake);
  for (const Retiring& r : retiring_) {
    // Told: the shutdown handshake's timeout is checked at least this often.
    wait = std::min(wait, r.told ? kIdleWake
                                 : std::max(absl::ZeroDuration(),
                                            r.revoked + kSupersedeAddressWait - now));
  }
  if (!heard_client_) {
    wait = std::min(wait, std::max(absl::ZeroDuration(),
                                   start_time_ + options_.connect_timeout - now));
  }
  if (options_.network_timeout > absl::ZeroDuration()) {
    wait = std::min(wait, std::max(absl::ZeroDuration(),
                                   last_client_state_time_ + options_.network_timeout - now));
  }
  return wait;
}

void ServerSession::OnTerminateSignal() {
  if (shutting_down_ || !transport_->connection().has_remote_address()) {
    return Finish("terminated by a signal", false);
  }
  BeginShutdown("terminated by a signal");
}

void ServerSession::OnUsr1Signal() {
  absl::Duration idle = clock_->Now() - last_client_state_time_;
  if (options_.signal_timeout > absl::ZeroDuration() && idle < options_.signal_timeout) return;
  std::string reason =
      options_.signal_timeout > absl::ZeroDuration()
          ? absl::StrCat("Network idle for ", absl::ToInt64Seconds(idle),
                         " seconds when SIGUSR1 received")
          : "SIGUSR1 received";
  if (shutting_down_ || !transport_->connection().has_remote_address()) {
    return Finish(reason, false);
  }
  BeginShutdown(reason);
}

void ServerSession::BeginShutdown(std::string reason) {
  if (shutting_down_) return;
  PublishIfStale();  // the last output goes out with the shutdown
  shutting_down_ = true;
  shutdown_reason_ = std::move(reason);
  transport_->StartShutdown();
}

void ServerSession::Finish(std::string reason, bool clean) {
  done_ = true;
  clean_ = clean;
  exit_reason_ = std::move(reason);
  if (pty_ != nullptr) {
    loop_->UnwatchFd(pty_->master_fd());
    pty_->Kill(SIGHUP).IgnoreError();  // fails only once reaped: nothing left to hang up
  }
}

}  // namespace moshx::cmd
