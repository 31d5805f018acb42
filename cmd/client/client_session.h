// ClientSession: the client side of a session — the transport, the user's
// keystrokes and window size, the escape key, the notification bar and the
// frames to draw (docs/prediction.md §B, §D).
//
// It never touches the real terminal: typed bytes come in through
// HandleInput(), window sizes through HandleResize(), and every frame to show
// goes out through the `draw` callback as a composed core::Framebuffer (the
// newest server screen, the local-echo predictions drawn over it
// (core::PredictionEngine, docs/prediction.md §A, §D.3), and the notification bar on top).
// cmd/client/terminal_loop.cc turns those frames into bytes with
// term::Renderer; tests just keep them.
// Like ServerSession, the caller drives it:
//
//   while (!session->done()) {
//     loop->RunOnce(session->WaitTime());
//     session->Service();
//   }
//
// Superseded (moshx mode, issue 13): when another client attached to the
// session, the server tells this one with the "superseded" extension in the
// state it shuts this association down with (core/protocol/terminal_state.h).
// The client then takes no more input, shows "session attached from
// <address>" on the notification bar, acknowledges the shutdown and is
// done(); superseded_message() says why, and the process exits 0.
//
// Not thread-safe: all calls on the loop's thread.
#ifndef MOSHX_CMD_CLIENT_SESSION_H_
#define MOSHX_CMD_CLIENT_SESSION_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/client/escape_key.h"
#include "cmd/client/history_receiver.h"
#include "cmd/client/history_writer.h"
#include "core/framebuffer.h"
#include "core/notification_bar.h"
#include "core/prediction_engine.h"
#include "core/protocol/terminal_state.h"
#include "core/protocol/user_stream.h"
#include "net/session_key.h"
#include "net/stream/association_streams.h"
#include "net/stream/stream_mux.h"
#include "net/transport.h"

namespace moshx::cmd {

struct ClientSessionOptions {
  net::WireMode mode = net::WireMode::kMoshx;
  uint64_t connection_id = 0;
  net::Address server;
  int width = 80;   // the user's window
  int height = 24;
  EscapeKeyConfig escape = EscapeKeyConfig::FromEnvironment(std::nullopt);
  // --predict: which keystrokes to echo locally before the server confirms them.
  core::PredictionDisplay predict = core::PredictionDisplay::kAdaptive;
  // --predict-overwrite: predicted characters overwrite instead of insert.
  bool predict_overwrite = false;
  // Benchmarks only: mosh 1.4's prediction engine without moshx's changes.
  bool predict_mosh_compatible = false;
  // Prepended to window titles the server sets ("" = none).
  std::string title_prefix;
  // No server state within this long: give up (mosh: 15 s).
  absl::Duration connect_timeout = absl::Seconds(15);
  // The sequence number of the first datagram (net::TransportConfig): the
  // terminal loop passes net::TimeBasedFirstSequence, so two runs given the
  // same key never repeat a nonce (docs/security.md §4).
  uint64_t first_seq = 0;
};

class ClientSession {
 public:
  using ClientTransport = net::Transport<protocol::UserStream, protocol::TerminalState>;
  // Receives each frame to show; `full_repaint` asks to redraw everything.
  using DrawFunction = std::function<void(const core::Framebuffer& frame, bool full_repaint)>;

  static absl::StatusOr<std::unique_ptr<ClientSession>> Create(net::TransportDeps deps,
                                                               const net::SessionKey& key,
                                                               const ClientSessionOptions& options,
                                                               DrawFunction draw);

  // Flow control: at most this many keystrokes the server has not
  // acknowledged. A paste larger than that is read from the terminal as the
  // server takes it, so neither side holds it whole (docs/security.md §5).
  static constexpr size_t kMaxUnacknowledgedInput = 256 * 1024;

  // Bytes the user typed. Returns false once the session no longer accepts
  // input (shutting down).
  void HandleInput(absl::string_view bytes);
  // True while the caller should read more input: fewer than
  // kMaxUnacknowledgedInput keystrokes are unacknowledged (one more read may
  // overshoot it by its size). The terminal loop stops reading the terminal
  // while this is false.
  bool AcceptsInput() const;
  // End of the user's input (stdin closed): "Exiting..." and shut down.
  void HandleInputClosed();
  // The user's window changed size.
  void HandleResize(int width, int height);
  // SIGTERM, SIGINT, SIGHUP, SIGPIPE.
  void HandleTerminateSignal();
  // Redraw everything on the next frame (after a suspend, on Ctrl-L).
  void RequestRepaint() { repaint_ = true; }
  // One line for the user (a forwarding that failed): shown in the
  // notification bar for kNoticeTime once the session is connected; a newer
  // notice replaces it.
  void ShowNotice(std::string message);
  static constexpr absl::Duration kNoticeTime = absl::Seconds(5);
  // The path when it is not UDP ("via SSH"; empty: UDP): named in every line
  // the notification bar shows (core::NotificationBar::set_path_note).
  void SetPathNote(std::string note) { bar_.set_path_note(std::move(note)); }

  void Service();
  absl::Duration WaitTime() const;

  // Escape Ctrl-Z was typed: the caller restores the terminal, stops, and
  // calls RequestRepaint() once resumed. Reading clears the flag.
  bool TakeSuspendRequest();

  bool done() const { return done_; }
  // The shutdown handshake completed (either side started it).
  bool clean() const { return clean_; }
  // At least one server state arrived.
  bool connected() const { return connected_; }
  // Another client attached to the session (see the file comment):
  // "session attached from 192.0.2.1:50000" ("... from another client"
  // when the server did not know the address); empty otherwise.
  const std::string& superseded_message() const { return superseded_message_; }

  // The newest server screen and the last frame drawn (bar included).
  const core::Framebuffer& server_framebuffer() const {
    return transport_->remote_state().framebuffer();
  }
  const core::Framebuffer& last_frame() const { return last_frame_; }
  const ClientTransport& transport() const { return *transport_; }
  const core::NotificationBar& notification_bar() const { return bar_; }
  const core::PredictionEngine& prediction() const { return prediction_; }
  // moshx mode: the association's reliable streams (docs/streams.md), for
  // forwarding; null in mosh mode. Lives as long as the session.
  net::stream::StreamMux* streams() { return streams_ ? &streams_->mux() : nullptr; }
  // moshx mode: the history lines that arrived for the terminal's own
  // scrollback (docs/protocol.md §7.6), waiting to be drawn. A frame not on
  // the alternate screen is drawn (the callback takes them) whenever some
  // wait, even if the frame did not change.
  HistoryWriter& history() { return history_; }
  // A stream the server opened: the history stream goes to the history
  // receiver (returns true); any other is the caller's (forwarding). Whoever
  // replaces the mux's incoming handler must call this first.
  bool OnIncomingStream(net::stream::StreamId id);
  // Takes at most `max_rows` waiting history rows (and lets the receiver
  // read more: it decodes only while fewer than kHistoryBacklog wait, so
  // the rest of a backlog waits compressed in the stream, and decoding goes
  // in small steps at the pace the terminal takes the rows).
  std::vector<core::Row> TakeHistory(size_t max_rows);
  static constexpr size_t kHistoryBacklog = 500;
  const HistoryReceiver* history_receiver() const { return history_receiver_.get(); }

 private:
  ClientSession(const net::Clock* clock, const ClientSessionOptions& options, DrawFunction draw);

  absl::Duration Now() const { return clock_->Now().since_epoch(); }
  void StartShutdown(std::string message);
  void Draw();
  // The newest server state as the prediction engine sees it.
  core::ServerView ServerViewNow() const;

  const net::Clock* const clock_;
  const ClientSessionOptions options_;
  DrawFunction draw_;
  std::unique_ptr<ClientTransport> transport_;
  std::unique_ptr<net::stream::AssociationStreams> streams_;  // after transport_: dies first
  std::unique_ptr<HistoryReceiver> history_receiver_;         // on streams_: dies first
  HistoryWriter history_;
  EscapeKeyProcessor escape_;
  core::NotificationBar bar_;
  core::PredictionEngine prediction_;
  core::Framebuffer last_frame_;
  net::MonoTime start_time_;
  net::MonoTime superseded_time_;
  std::string superseded_message_;
  uint64_t last_remote_num_ = 0;
  bool connected_ = false;
  bool repaint_ = true;
  std::string notice_;                  // ShowNotice(): waiting or showing
  bool notice_shown_ = false;
  net::MonoTime notice_until_;
  bool suspend_requested_ = false;
  bool shutting_down_ = false;
  bool done_ = false;
  bool clean_ = false;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CLIENT_SESSION_H_
