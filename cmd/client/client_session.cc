#include "cmd/client/client_session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace moshx::cmd {
namespace {

// While history waits for the terminal, the loop turns at least this often.
constexpr absl::Duration kHistoryTurn = absl::Milliseconds(5);

// Before the first server state: "Connecting..." after a short grace (no
// flash on fast links), then mosh's "Nothing received from server…".
constexpr absl::Duration kConnectingGrace = absl::Milliseconds(50);
constexpr absl::Duration kConnectingNotice = absl::Milliseconds(250);
// Superseded: a server always shuts the association down with the notice;
// should its shutdown state not follow, the client leaves after this long.
constexpr absl::Duration kSupersededGrace = absl::Seconds(2);

core::PredictionEngine::Options PredictionOptions(const ClientSessionOptions& o) {
  core::PredictionEngine::Options p;
  p.display = o.predict;
  p.overwrite = o.predict_overwrite;
  p.mosh_compatible = o.predict_mosh_compatible;
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClientSession>> ClientSession::Create(
    net::TransportDeps deps, const net::SessionKey& key, const ClientSessionOptions& options,
    DrawFunction draw) {
  std::unique_ptr<ClientSession> session(new ClientSession(deps.clock, options, std::move(draw)));
  net::EventLoop* loop = deps.loop;
  net::TransportConfig config;
  config.role = net::Role::kClient;
  config.mode = options.mode;
  config.connection_id = options.connection_id;
  config.server_address = options.server;
  config.first_seq = options.first_seq;
  protocol::TerminalState initial(options.width, options.height);
  // A real mosh-server may send sequences outside moshx's repertoire.
  initial.set_lenient_apply(options.mode == net::WireMode::kMosh);
  auto transport = ClientTransport::Create(std::move(deps), key, config, protocol::UserStream(),
                                           std::move(initial));
  if (!transport.ok()) return transport.status();
  session->transport_ = std::move(*transport);
  if (options.mode == net::WireMode::kMoshx) {
    auto streams = net::stream::AssociationStreams::Create(
        loop, session->clock_, &session->transport_->core(), net::stream::MuxConfig());
    if (!streams.ok()) return streams.status();
    session->streams_ = std::move(*streams);
    // The server's first stream is the history (docs/protocol.md §7.6).
    ClientSession* self = session.get();
    net::stream::StreamMux* mux = &session->streams_->mux();
    session->history_receiver_ = std::make_unique<HistoryReceiver>(
        mux, [self](protocol::HistoryRecord r) { self->history_.Add(std::move(r)); });
    session->history_receiver_->set_wants_more(
        [self] { return self->history_.pending_lines() < kHistoryBacklog; });
    mux->set_incoming_handler([self](net::stream::StreamId id) { self->OnIncomingStream(id); });
  }
  // State 1: the window size, sent at once (docs/protocol.md §7.1).
  session->transport_->mutable_local_state().PushResize(
      std::min(options.width, core::kMaxScreenDimension),
      std::min(options.height, core::kMaxScreenDimension));
  return session;
}

ClientSession::ClientSession(const net::Clock* clock, const ClientSessionOptions& options,
                             DrawFunction draw)
    : clock_(clock),
      options_(options),
      draw_(std::move(draw)),
      escape_(options.escape),
      bar_(options.escape.key_name, clock->Now().since_epoch()),
      prediction_(PredictionOptions(options)),
      last_frame_(options.width, options.height),
      start_time_(clock->Now()) {}

bool ClientSession::AcceptsInput() const {
  // The transport subtracts the acknowledged prefix from the local state:
  // what it still holds is unacknowledged.
  return transport_->local_state().held_events() < kMaxUnacknowledgedInput;
}

void ClientSession::HandleInput(absl::string_view bytes) {
  if (shutting_down_ || done_) return;  // mosh ignores input while shutting down
  InputActions actions = escape_.Process(bytes);
  if (!actions.to_send.empty()) {
    // The engine sees what is sent, so escape-key commands never predict
    // (docs/prediction.md §E.11); the paste cutoff looks at the whole read
    // (docs/prediction.md §E.14).
    if (bytes.size() > core::PredictionEngine::kPasteThreshold) {
      prediction_.Reset();
    } else {
      prediction_.SetLocalFrameSent(transport_->scheduler().back().num);
      prediction_.NewUserBytes(actions.to_send, ServerViewNow(), Now());
    }
    transport_->mutable_local_state().PushBytes(actions.to_send);
    if (protocol::HasInterruptKey(actions.to_send)) transport_->MarkUrgent();
  }
  if (actions.clear_help && bar_.message() == escape_.config().help) bar_.ClearMessage();
  if (actions.show_help && escape_.waiting_for_command()) {
    bar_.SetMessage(escape_.config().help, core::NotificationBar::Kind::kPermanent, Now(),
                    /*with_quit_hint=*/false);
  }
  if (actions.repaint) repaint_ = true;
  if (actions.suspend) suspend_requested_ = true;
  if (actions.quit) StartShutdown("Exiting on user request...");
}

void ClientSession::HandleInputClosed() { StartShutdown("Exiting..."); }

void ClientSession::HandleResize(int width, int height) {
  if (shutting_down_ || width < 1 || height < 1) return;
  prediction_.Reset();
  // Never ask for a screen larger than this client accepts back
  // (core::kMaxScreenDimension; a real mosh-server would echo it).
  transport_->mutable_local_state().PushResize(std::min(width, core::kMaxScreenDimension),
                                               std::min(height, core::kMaxScreenDimension));
}

void ClientSession::ShowNotice(std::string message) {
  notice_ = std::move(message);
  notice_shown_ = false;
}

void ClientSession::HandleTerminateSignal() { StartShutdown("Signal received, shutting down..."); }

bool ClientSession::TakeSuspendRequest() {
  bool s = suspend_requested_;
  suspend_requested_ = false;
  return s;
}

void ClientSession::StartShutdown(std::string message) {
  if (shutting_down_) return;
  shutting_down_ = true;
  bar_.SetMessage(std::move(message), core::NotificationBar::Kind::kPermanent, Now());
  if (!transport_->connection().has_remote_address()) {
    done_ = true;
    return;
  }
  transport_->StartShutdown();
}

void ClientSession::Service() {
  if (done_) return;
  net::MonoTime now = clock_->Now();
  const uint64_t num = transport_->remote_state_num();
  if (num != last_remote_num_) {
    last_remote_num_ = num;
    bar_.ServerHeard(transport_->remote_state_time().since_epoch());
    if (!connected_) {
      connected_ = true;
      bar_.ClearMessage();
    }
  }
  if (superseded_message_.empty() && transport_->remote_state().superseded().has_value()) {
    const std::string& address = transport_->remote_state().superseded()->new_client_address;
    superseded_message_ = absl::StrCat("session attached from ",
                                       address.empty() ? "another client" : address);
    superseded_time_ = now;
    shutting_down_ = true;  // no more input: this association is revoked
    prediction_.Reset();
    bar_.SetMessage(superseded_message_, core::NotificationBar::Kind::kPermanent, Now(),
                    /*with_quit_hint=*/false);
  }
  if (!superseded_message_.empty() && !transport_->counterparty_shutting_down() &&
      now - superseded_time_ >= kSupersededGrace) {
    done_ = clean_ = true;
  }
  if (transport_->scheduler().front().num != 0) {
    bar_.ServerAcked(transport_->scheduler().front().send_time.since_epoch());
  }
  if (!connected_ && !shutting_down_) {
    if (now - start_time_ >= options_.connect_timeout) {
      StartShutdown("Timed out waiting for server...");
    } else if (now - start_time_ >= kConnectingNotice) {
      bar_.SetMessage(absl::StrCat("Nothing received from server on UDP port ",
                                   options_.server.port(), "."),
                      core::NotificationBar::Kind::kTemporary, now.since_epoch());
    } else if (now - start_time_ >= kConnectingGrace) {
      bar_.SetMessage("Connecting...", core::NotificationBar::Kind::kTemporary,
                      now.since_epoch());
    }
  }
  if (!notice_.empty() && connected_ && !shutting_down_) {
    if (!notice_shown_) {
      bar_.SetMessage(notice_, core::NotificationBar::Kind::kPermanent, now.since_epoch(),
                      /*with_quit_hint=*/false);
      notice_shown_ = true;
      notice_until_ = now + kNoticeTime;
    } else if (now >= notice_until_) {
      if (bar_.message() == notice_) bar_.ClearMessage();
      notice_.clear();
    }
  }
  if (transport_->counterparty_shutting_down() && transport_->counterparty_shutdown_ack_sent()) {
    done_ = clean_ = true;
  } else if (shutting_down_ && transport_->shutdown_acknowledged()) {
    done_ = clean_ = true;
  } else if (shutting_down_ && transport_->shutdown_ack_timed_out()) {
    done_ = true;
  }
  if (!done_) Draw();
}

core::ServerView ClientSession::ServerViewNow() const {
  const protocol::TerminalState& remote = transport_->remote_state();
  return core::ServerView{&remote.framebuffer(), remote.echo_ack(), remote.pty_state()};
}

void ClientSession::Draw() {
  const net::RttEstimator& rtt = transport_->connection().rtt();
  prediction_.SetTiming(rtt.SendInterval(), rtt.srtt());
  prediction_.Cull(ServerViewNow(), Now());
  core::Framebuffer frame = server_framebuffer();
  prediction_.Apply(&frame);
  if (!options_.title_prefix.empty() && !frame.title().empty()) {
    frame.set_title(options_.title_prefix + frame.title());
  }
  bar_.Draw(Now(), &frame);
  const bool history_due = history_.has_pending() && !frame.modes().alternate_screen;
  if (!repaint_ && !history_due && frame == last_frame_) return;
  draw_(frame, repaint_);
  repaint_ = false;
  last_frame_ = std::move(frame);
}

bool ClientSession::OnIncomingStream(net::stream::StreamId id) {
  if (id != protocol::kHistoryStreamId || history_receiver_ == nullptr) return false;
  history_receiver_->Attach(id);
  return true;
}

std::vector<core::Row> ClientSession::TakeHistory(size_t max_rows) {
  std::vector<core::Row> rows = history_.Take(max_rows);
  if (history_receiver_ != nullptr) history_receiver_->Resume();
  return rows;
}

absl::Duration ClientSession::WaitTime() const {
  absl::Duration wait = std::min(bar_.WaitTime(Now()), prediction_.WaitTime());
  // History waiting for the terminal goes out a batch per turn.
  if (history_.has_pending() && !last_frame_.modes().alternate_screen) {
    wait = std::min(wait, kHistoryTurn);
  }
  if (!connected_) wait = std::min(wait, kConnectingGrace);
  if (notice_shown_ && !notice_.empty()) {
    wait = std::min(wait, std::max(absl::ZeroDuration(), notice_until_ - clock_->Now()));
  }
  return wait;
}

}  // namespace moshx::cmd
