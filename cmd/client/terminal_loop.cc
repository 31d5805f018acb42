#include "cmd/client/terminal_loop.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "cmd/client/client_session.h"
#include "cmd/forward/forwarder.h"
#include "cmd/launch/ssh_reconnect.h"
#include "cmd/launch/terminal_safe.h"
#include "cmd/sys/process.h"
#include "cmd/sys/tty.h"
#include "net/connection.h"
#include "net/dual_path.h"
#include "net/replaceable_path.h"
#include "net/stream_path.h"
#include "net/udp_path.h"
#include "net/udp_socket.h"
#include "term/renderer.h"

namespace moshx::cmd {
namespace {

// Restores the terminal if moshx dies of a fatal signal mid-session.
const char kEmergencyReset[] = "\033[?1l\033[0m\033[?25h\033[?1000l\033[?1002l\033[?1003l"
                               "\033[?1006l\033[?2004l\033[?1004l\033[?1049l\r\n";
void FatalSignalHandler(int signo) {
  sys::ScopedRawMode::RestoreFromSignalHandler();
  (void)!write(STDOUT_FILENO, kEmergencyReset, sizeof(kEmergencyReset) - 1);  // dying anyway
  signal(signo, SIG_DFL);
  raise(signo);
}

void WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(n);
  }
}

int Fail(absl::string_view message) {
  std::fprintf(stderr, "moshx: %s\n", std::string(message).c_str());
  return 1;
}

ClientSessionOptions SessionOptions(const ServerEndpoint& server, const TerminalOptions& o,
                                    sys::WindowSize size) {
  ClientSessionOptions co;
  co.mode = server.mode;
  co.connection_id = server.connection_id;
  co.server = server.address;
  co.width = size.cols;
  co.height = size.rows;
  co.escape = EscapeKeyConfig::FromEnvironment(
      o.escape_key ? std::optional<absl::string_view>(*o.escape_key) : std::nullopt);
  co.predict = o.predict;
  co.predict_overwrite = o.predict_overwrite;
  co.title_prefix = o.title_prefix;
  return co;
}

// Watches the terminal and the signals a client reacts to. The loop only
// refuses a watch for a bad descriptor or signal number, neither possible
// here, so the Statuses are not checked.
// Reads the terminal while `*open`; end of input clears it. When
// `take_keys` (may be empty) returns true, what was read is its (the key
// press that reconnects ssh) and not the session's.
void WatchInput(net::EventLoop* loop, ClientSession* s, bool* open,
                std::function<bool()> take_keys) {
  loop->WatchFd(STDIN_FILENO, net::EventLoop::kReadable, [loop, s, open, take_keys](uint32_t) {
    char buffer[16384];
    ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n > 0) {
      if (take_keys && take_keys()) return;
      s->HandleInput(absl::string_view(buffer, n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      loop->UnwatchFd(STDIN_FILENO);
      *open = false;
      s->HandleInputClosed();
    }
  }).IgnoreError();
}

void WatchTerminal(net::EventLoop* loop, ClientSession* s, sys::ScopedRawMode* raw,
                   term::Renderer* renderer) {
  loop->WatchSignal(SIGWINCH, [s] {
    auto ws = sys::GetWindowSize(STDIN_FILENO);
    if (ws.ok()) s->HandleResize(ws->cols, ws->rows);
  }).IgnoreError();
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) {
    loop->WatchSignal(signo, [s] { s->HandleTerminateSignal(); }).IgnoreError();
  }
  loop->WatchSignal(SIGCONT, [s, raw, renderer] {
    // A terminal that refuses raw mode again still gets the redraw.
    raw->Resume().IgnoreError();
    WriteAll(STDOUT_FILENO, renderer->Open());
    s->RequestRepaint();
  }).IgnoreError();
}

// Escape Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT.
void Suspend(ClientSession* s, sys::ScopedRawMode* raw, term::Renderer* renderer) {
  WriteAll(STDOUT_FILENO, renderer->Close());
  raw->Suspend().IgnoreError();  // best effort: the shell gets what the kernel has
  WriteAll(STDOUT_FILENO, "\n\033[37;44m[moshx is suspended.]\033[m\n");
  kill(0, SIGSTOP);
  raw->Resume().IgnoreError();  // as on SIGCONT
  WriteAll(STDOUT_FILENO, renderer->Open());
  s->RequestRepaint();
}

int Outcome(const ClientSession& s, const ServerEndpoint& server) {
  if (!s.superseded_message().empty()) {  // another client took the session over
    std::fprintf(stderr, "moshx: %s\n", s.superseded_message().c_str());
    return 0;
  }
  if (!s.connected() && server.stream_read_fd >= 0) {
    std::fprintf(stderr,
                 "moshx did not make a successful connection to %s: nothing came back over "
                 "the SSH connection.\n",
                 server.address.ToString().c_str());
    return 1;
  }
  if (!s.connected()) {
    std::fprintf(stderr,
                 "moshx did not make a successful connection to %s.\n"
                 "Nothing was received from the server on UDP port %d: please verify that it is "
                 "not firewalled\nand can reach the server (e.g. on the server: "
                 "sudo ufw allow 60001:60999/udp, or choose a port with -p).\n",
                 server.address.ToString().c_str(), server.address.port());
    return 1;
  }
  if (!s.clean()) {
    std::fprintf(stderr,
                 "moshx did not shut down cleanly. Please note that the moshx server process "
                 "may still be running on the server.\n");
    return 1;
  }
  return 0;
}

// At most this many forwarding messages are repeated on stderr at the end.
constexpr size_t kMaxForwardingMessages = 20;

// The forwarding service on the session's streams; null without forwarding
// options. Its messages go to the bar and to `*messages`.
std::unique_ptr<forward::Forwarder> StartForwarding(net::EventLoop* loop, ClientSession* s,
                                                    const ForwardingOptions& f,
                                                    std::vector<std::string>* messages) {
  auto note = [s, messages](const std::string& line) {
    // Some quote the server's replies: never raw on the terminal.
    std::string safe = TerminalSafe(line);
    if (messages->size() < kMaxForwardingMessages) messages->push_back(safe);
    s->ShowNotice(std::move(safe));
  };
  if (f.empty()) return nullptr;
  if (s->streams() == nullptr) {
    note("forwarding (-L/-R/-D/-A) needs a moshx server; mosh mode has no streams");
    return nullptr;
  }
  forward::ForwarderOptions fo;
  fo.specs = f.specs;
  if (f.agent) fo.agent_socket = f.agent_socket;  // empty: flags.cc warned already
  auto forwarder = std::make_unique<forward::Forwarder>(loop, s->streams(), fo, note);
  forward::Forwarder* raw = forwarder.get();
  // The server's history stream stays the session's (docs/protocol.md §7.6).
  s->streams()->set_incoming_handler([raw, s](net::stream::StreamId id) {
    if (!s->OnIncomingStream(id)) raw->OnIncomingStream(id);
  });
  forwarder->Start();
  return forwarder;
}

}  // namespace

// History rows written with one frame, at most: what the next screen may
// wait behind. 100 rows every 5 ms (ClientSession's history turn) is 20000
// lines a second; 500 made Ctrl-C during a flood ~25 ms slower than with
// history off at 20 ms RTT, 100 ~10-15 ms (docs/benchmarks.md).
constexpr size_t kHistoryRowsPerFrame = 100;

// Freed heap the client keeps rather than giving back at once. History rows
// are laid out, drawn and freed a batch every few milliseconds; with glibc's
// default (128 KiB, adapting) the heap shrank and grew back every turn, and
// the page faults made the client's CPU during a `seq` flood 0.21-0.30 s/s
// instead of 0.13-0.17 (docs/benchmarks.md, "Client heap").
constexpr int kMallocTrimThreshold = 32 << 20;

int RunTerminalLoop(const ServerEndpoint& server, const TerminalOptions& o,
                    const ForwardingOptions& forwarding) {
  // Returns 0 where the C library has no such knob (then the default stays).
  (void)mallopt(M_TRIM_THRESHOLD, kMallocTrimThreshold);
  auto raw = sys::ScopedRawMode::Enter(STDIN_FILENO);
  if (!raw.ok()) {
    std::fprintf(stderr, "moshx: cannot use this terminal: %s\n",
                 std::string(raw.status().message()).c_str());
    return 1;
  }
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(s, FatalSignalHandler);
  sys::WindowSize size = sys::GetWindowSize(STDIN_FILENO).value_or(sys::WindowSize{});
  auto runtime = sys::ProcessRuntime::Create();
  if (!runtime.ok()) {
    raw->reset();
    return Fail(runtime.status().message());
  }
  // The datagrams' path: UDP (with port hopping) or the SSH stream.
  net::UdpSocketFactory factory;
  net::TransportDeps deps{(*runtime)->loop(), (*runtime)->clock(), nullptr, nullptr,
                          (*runtime)->rng()};
  net::DualPath* dual = nullptr;
  net::ReplaceablePath* replaceable = nullptr;  // --transport ssh
  if (server.stream_read_fd >= 0) {
    auto path = net::StreamPath::Create((*runtime)->loop(), server.stream_read_fd,
                                        server.stream_write_fd, /*peer_known=*/true);
    if (!path.ok()) {
      raw->reset();
      return Fail(path.status().message());
    }
    deps.path = *std::move(path);
    if (server.switch_paths) {  // auto: UDP first, the stream when UDP fails
      net::DualPathOptions dual_options;
      // Behind a ProxyJump/ProxyCommand: the stream first, UDP probed.
      dual_options.start_on_fallback = server.start_on_ssh;
      auto socket = net::UdpSocket::OpenEphemeral(server.address.family());
      absl::StatusOr<std::unique_ptr<net::UdpPath>> udp =
          socket.ok() ? net::UdpPath::Create((*runtime)->loop(), (*runtime)->clock(),
                                             *std::move(socket), &factory, server.address)
                      : absl::StatusOr<std::unique_ptr<net::UdpPath>>(socket.status());
      absl::StatusOr<std::unique_ptr<net::DualPath>> both =
          udp.ok() ? net::DualPath::Create((*runtime)->clock(), *std::move(udp),
                                           std::move(deps.path), dual_options)
                   : absl::StatusOr<std::unique_ptr<net::DualPath>>(udp.status());
      if (!both.ok()) {
        raw->reset();
        return Fail(both.status().message());
      }
      dual = both->get();
      deps.path = *std::move(both);
    } else {  // ssh: the stream alone, replaced when ssh is run again
      auto one = std::make_unique<net::ReplaceablePath>(std::move(deps.path));
      replaceable = one.get();
      deps.path = std::move(one);
    }
  } else {
    auto socket = net::UdpSocket::OpenEphemeral(server.address.family());
    if (!socket.ok()) {
      raw->reset();
      return Fail(socket.status().message());
    }
    deps.socket = *std::move(socket);
    deps.socket_factory = &factory;
  }
  term::Renderer::Options render_options;
  render_options.alternate_screen = o.alternate_screen;
  // moshx mode: the session's history goes into the terminal's own
  // scrollback, which only its primary screen has (issue 14).
  if (server.mode == net::WireMode::kMoshx) {
    render_options.alternate_screen = false;
    render_options.write_history = true;
  }
  term::Renderer renderer(render_options);
  // moshx mode: the shell lines above the cursor go into the scrollback.
  WriteAll(STDOUT_FILENO, renderer.Open(size.rows));
  net::EventLoop* loop = (*runtime)->loop();
  ClientSessionOptions options = SessionOptions(server, o, size);
  options.first_seq = net::TimeBasedFirstSequence((*runtime)->WallNow());
  ClientSession* s = nullptr;
  // Before the session: its path's change handler appends here.
  std::vector<std::string> path_changes;  // -v: printed at the end
  auto session = ClientSession::Create(
      std::move(deps), server.key, options,
      [&renderer, &s](const core::Framebuffer& frame, bool full) {
        if (full) renderer.Invalidate();
        // History waits while the application shows its alternate screen.
        std::vector<core::Row> history;
        // A batch per frame, so a backlog never delays the screen much.
        if (s != nullptr && !frame.modes().alternate_screen) history = s->TakeHistory(kHistoryRowsPerFrame);
        WriteAll(STDOUT_FILENO, renderer.Draw(frame, history));
      });
  if (!session.ok()) {
    WriteAll(STDOUT_FILENO, renderer.Close());
    raw->reset();
    return Fail(session.status().message());
  }
  s = session->get();
  // auto and ssh: a dropped ssh is run again (docs/ssh-path.md §5,
  // "Reconnecting"); made below, once the bar's notices have somewhere to go.
  std::unique_ptr<SshReconnect> reconnect;
  if (dual != nullptr) {
    dual->set_change_handler([s, dual, &reconnect, &server, &path_changes,
                              loop_clock = (*runtime)->clock(),
                              start = (*runtime)->clock()->Now()](
                                 net::DualPath::Which now, const std::string& reason) {
      const bool ssh = now == net::DualPath::Which::kFallback;
      if (dual->fallback_failed() && reconnect != nullptr) reconnect->PathFailed();
      s->SetPathNote(ssh ? "via SSH" : "");
      s->ShowNotice(ssh ? absl::StrCat("via SSH \u2014 UDP port ", server.address.port(),
                                       " blocked (", reason, ")")
                        : absl::StrCat("back on UDP port ", server.address.port()));
      if (path_changes.size() < 1000) {
        path_changes.push_back(absl::StrFormat(
            "%.1fs: %s (%s)", absl::ToDoubleSeconds(loop_clock->Now() - start),
            ssh ? "moved to the SSH connection" : "moved back to UDP", reason));
      }
    });
    if (dual->active() == net::DualPath::Which::kFallback) {  // behind a proxy
      s->SetPathNote("via SSH");
      s->ShowNotice(absl::StrCat("via SSH \u2014 ssh goes through a proxy; probing UDP port ",
                                 server.address.port()));
      path_changes.push_back("0.0s: started on the SSH connection (ssh goes through a proxy)");
    }
  } else if (server.stream_read_fd >= 0) {  // --transport ssh
    s->SetPathNote("via SSH");
  }
  std::function<bool()> take_keys;
  if ((dual != nullptr || replaceable != nullptr) && !server.reconnect_batch_argv.empty()) {
    SshReconnect::Options ro;
    ro.batch_argv = server.reconnect_batch_argv;
    ro.interactive_argv = server.reconnect_argv;
    reconnect = std::make_unique<SshReconnect>(
        loop, (*runtime)->clock(), ro,
        [dual, replaceable, s](std::unique_ptr<net::StreamPath> path) {
          // Cannot fail: a StreamPath made with peer_known knows its peer.
          if (replaceable != nullptr) {
            replaceable->Replace(std::move(path)).IgnoreError();
            return;
          }
          dual->ReplaceFallback(std::move(path)).IgnoreError();
          s->SetPathNote(dual->active() == net::DualPath::Which::kFallback ? "via SSH" : "");
        },
        [s, &path_changes, loop_clock = (*runtime)->clock(),
         start = (*runtime)->clock()->Now()](const std::string& note) {
          s->ShowNotice(note);
          if (path_changes.size() < 1000) {
            path_changes.push_back(absl::StrFormat(
                "%.1fs: %s", absl::ToDoubleSeconds(loop_clock->Now() - start), note));
          }
        });
    SshReconnect* r = reconnect.get();
    if (replaceable != nullptr) {
      replaceable->set_failure_handler([r](const absl::Status&) { r->PathFailed(); });
    }
    // While ssh needs the user, the next key press runs it in the
    // foreground (its prompts on the terminal), then the session resumes.
    take_keys = [r, s, &raw, &renderer, &server] {
      if (!r->needs_user()) return false;
      WriteAll(STDOUT_FILENO, renderer.Close());
      raw->get()->Suspend().IgnoreError();
      std::fprintf(stderr, "\nmoshx: reconnecting the SSH connection to %s\n",
                   server.address.ToString().c_str());
      absl::Status done = r->ReconnectInteractively();
      if (!done.ok()) {
        s->ShowNotice(absl::StrCat("reconnecting SSH failed (", done.message(),
                                   "): press a key to try again"));
      }
      raw->get()->Resume().IgnoreError();
      WriteAll(STDOUT_FILENO, renderer.Open());
      s->RequestRepaint();
      return true;
    };
  }
  WatchTerminal(loop, s, raw->get(), &renderer);
  bool input_open = true, reading = true;
  WatchInput(loop, s, &input_open, take_keys);
  std::vector<std::string> forwarding_messages;
  // Declared after the session: destroyed before it (it uses the session's mux).
  std::unique_ptr<forward::Forwarder> forwarder =
      StartForwarding(loop, s, forwarding, &forwarding_messages);
  while (!s->done()) {
    // RunOnce fails only when poll(2) does (ENOMEM; EINTR is no error):
    // the next turn retries.
    loop->RunOnce(s->WaitTime()).IgnoreError();
    s->Service();
    // Flow control: the terminal is read only while the session takes input.
    const bool want = input_open && s->AcceptsInput();
    if (want != reading) {
      if (want) {
        WatchInput(loop, s, &input_open, take_keys);
      } else {
        loop->UnwatchFd(STDIN_FILENO);
      }
      reading = want;
    }
    if (s->TakeSuspendRequest()) Suspend(s, raw->get(), &renderer);
  }
  forwarder.reset();
  // The session and its path outlive `reconnect`: nothing may reach it now.
  if (replaceable != nullptr) replaceable->set_failure_handler(nullptr);
  if (dual != nullptr) dual->set_change_handler(nullptr);
  reconnect.reset();
  WriteAll(STDOUT_FILENO, renderer.Close());
  raw->reset();
  for (const std::string& line : forwarding_messages) {
    std::fprintf(stderr, "moshx: %s\n", line.c_str());
  }
  if (server.verbose > 0) {
    for (const std::string& line : path_changes) std::fprintf(stderr, "moshx: %s\n", line.c_str());
  }
  return Outcome(*s, server);
}

}  // namespace moshx::cmd
