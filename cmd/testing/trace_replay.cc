#include "cmd/testing/trace_replay.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "absl/random/bit_gen_ref.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmd/server/server_session.h"
#include "cmd/server/user_input.h"
#include "cmd/sys/pty.h"
#include "net/testing/simulated_network.h"
#include "term/emulator.h"

namespace moshx::cmd::testing {
namespace {

constexpr uint16_t kPort = 60001;
// How long a program may take to start answering a key (real time), and the
// silence that ends its answer.
constexpr int kFirstOutputMs = 100;
constexpr int kQuietMs = 8;
constexpr int kMaxSettleMs = 1000;
constexpr absl::Duration kExpectLimit = absl::Seconds(20);
constexpr absl::Duration kDrainAfterTrace = absl::Seconds(3);

net::SessionKey Key() {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(0x30 + i);
  return net::SessionKey(b);
}

int64_t NowMs() {
  return absl::ToUnixMillis(absl::Now());
}

// The contents of a small /proc file, or "" if it cannot be read: the process
// may exit between readdir() and the read (ESRCH). Plain read(2), because an
// ifstream throws std::ios_base::failure when read() fails mid-stream.
std::string ReadProcFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buffer[512];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) out.append(buffer, n);
  close(fd);
  return out;
}

// True when the pty's foreground process group has a process and every one
// of them sleeps waiting for input (a tty read, poll or select), read from
// /proc: the program has finished answering. A quiet pty alone does not
// say so: on a busy machine a program can pause longer than kQuietMs in the
// middle of an answer (bash forking `stty -echo`, say).
bool ForegroundWaitsForInput(int master_fd) {
  const pid_t group = tcgetpgrp(master_fd);
  if (group <= 0) return false;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return false;
  int members = 0;
  bool waiting = true;
  for (dirent* e; waiting && (e = readdir(proc)) != nullptr;) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;  // not a process
    const std::string stat = ReadProcFile(absl::StrCat("/proc/", e->d_name, "/stat"));
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    char state = 0;
    long parent = 0, process_group = 0;
    if (!(fields >> state >> parent >> process_group) || process_group != group) continue;
    ++members;
    const std::string wchan = ReadProcFile(absl::StrCat("/proc/", e->d_name, "/wchan"));
    waiting = state == 'S' && (absl::StrContains(wchan, "wait_woken") ||
                               absl::StrContains(wchan, "n_tty_read") ||
                               absl::StrContains(wchan, "poll") ||
                               absl::StrContains(wchan, "select"));
  }
  closedir(proc);
  return waiting && members > 0;
}

// An EventLoop for replays: simulated sockets and alarms in virtual time,
// real fds (the pty) polled for real. Settle() lets real time pass with
// virtual time frozen until the program's output has settled.
class TraceLoop : public net::EventLoop {
 public:
  explicit TraceLoop(net::testing::SimulatedNetwork* network) : network_(network) {}

  absl::Status WatchFd(int fd, uint32_t events, FdCallback callback) override {
    if (network_->WatchFd(fd, events, callback).ok()) return absl::OkStatus();
    if (events == 0) {
      real_fds_.erase(fd);
    } else {
      real_fds_[fd] = Watch{events, std::move(callback)};
    }
    return absl::OkStatus();
  }
  void UnwatchFd(int fd) override {
    real_fds_.erase(fd);
    network_->UnwatchFd(fd);
  }
  AlarmId ScheduleAlarm(net::MonoTime deadline, std::function<void()> callback) override {
    return network_->ScheduleAlarm(deadline, std::move(callback));
  }
  bool CancelAlarm(AlarmId id) override { return network_->CancelAlarm(id); }
  absl::Status WatchSignal(int signo, std::function<void()> callback) override {
    return network_->WatchSignal(signo, std::move(callback));
  }
  absl::Status RunOnce(absl::Duration timeout) override {
    PollReal(real_wait_ms_);
    return network_->RunOnce(std::min(timeout, max_step_));
  }

  // Real-time pacing (for program start-up) or none (during keys).
  void SetPacing(int real_wait_ms, absl::Duration max_step) {
    real_wait_ms_ = real_wait_ms;
    max_step_ = max_step;
  }

  // Watch this tty (the pty's slave side, opened by the caller) for input
  // the program has not read yet, and this pty master for its foreground
  // process group; -1 = none.
  void set_input_probe(int fd, int master_fd) {
    input_probe_ = fd;
    master_probe_ = master_fd;
  }

  // Waits (up to kMaxSettleMs) until the program has read its input, then up
  // to kFirstOutputMs for output, then until kQuietMs of silence, then until
  // the program waits for input again (and kQuietMs more for its last
  // output). A hung-up pty (the program exited) stops the wait at once.
  void Settle() {
    const int64_t limit = NowMs() + kMaxSettleMs;
    int unread = 0;
    while (input_probe_ >= 0 && NowMs() < limit && !hung_up_ &&
           ioctl(input_probe_, FIONREAD, &unread) == 0 && unread > 0) {
      PollReal(1);
    }
    int64_t deadline = NowMs() + kFirstOutputMs;
    while (NowMs() < std::min(deadline, limit)) {
      if (PollReal(static_cast<int>(deadline - NowMs()))) deadline = NowMs() + kQuietMs;
      if (hung_up_) return;
    }
    if (master_probe_ < 0) return;
    while (NowMs() < limit && !hung_up_ && !ForegroundWaitsForInput(master_probe_)) PollReal(1);
    deadline = NowMs() + kQuietMs;
    while (NowMs() < std::min(deadline, limit) && !hung_up_) {
      if (PollReal(static_cast<int>(deadline - NowMs()))) deadline = NowMs() + kQuietMs;
    }
  }

 private:
  struct Watch {
    uint32_t events;
    FdCallback callback;
  };

  // Polls the real fds once; dispatches; true if any had input.
  bool PollReal(int wait_ms) {
    if (real_fds_.empty()) return false;
    std::vector<pollfd> fds;
    for (const auto& [fd, w] : real_fds_) {
      short ev = 0;
      if (w.events & kReadable) ev |= POLLIN;
      if (w.events & kWritable) ev |= POLLOUT;
      fds.push_back(pollfd{fd, ev, 0});
    }
    if (poll(fds.data(), fds.size(), std::max(wait_ms, 0)) <= 0) return false;
    bool input = false;
    for (const pollfd& p : fds) {
      uint32_t got = 0;
      if (p.revents & POLLIN) got |= kReadable;
      if (p.revents & POLLOUT) got |= kWritable;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) got |= kError;
      if (p.revents & POLLIN) input = true;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) hung_up_ = true;
      auto it = real_fds_.find(p.fd);
      if (got != 0 && it != real_fds_.end()) {
        FdCallback cb = it->second.callback;  // may unwatch
        cb(got);
      }
    }
    return input;
  }

  net::testing::SimulatedNetwork* const network_;
  std::map<int, Watch> real_fds_;
  int real_wait_ms_ = 0;
  int input_probe_ = -1;
  int master_probe_ = -1;
  bool hung_up_ = false;
  absl::Duration max_step_ = absl::InfiniteDuration();
};

absl::StatusOr<std::unique_ptr<sys::Pty>> Spawn(const Trace& trace, sys::WindowSize size) {
  sys::PtyOptions po;
  po.argv = trace.argv;
  po.size = size;
  po.extra_env = trace.env;
  po.working_directory = "/";
  return sys::Pty::Spawn(po);
}

std::string TextOf(const core::Framebuffer& fb) { return ScreenOf(fb).text; }

}  // namespace

Screen ScreenOf(const core::Framebuffer& fb) {
  Screen s;
  for (int y = 0; y < fb.height(); ++y) {
    std::string line;
    for (int x = 0; x < fb.width(); ++x) {
      const core::Cell& c = fb.cell(y, x);
      if (!c.is_continuation()) line += c.is_blank() ? " " : c.text;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s.text += line + "\n";
  }
  s.row = fb.cursor().row;
  s.col = fb.cursor().col;
  return s;
}

namespace {

// A program on a pty with an emulator: the reference run.
class DirectTerminal {
 public:
  DirectTerminal(std::unique_ptr<sys::Pty> pty, int width, int height)
      : pty_(std::move(pty)), emulator_(width, height) {}
  ~DirectTerminal() { pty_->Kill(SIGKILL).IgnoreError(); }  // fails only once reaped

  // Reads output for up to `first_ms`, then until `quiet_ms` of silence.
  void Drain(int first_ms, int quiet_ms) {
    int64_t deadline = NowMs() + first_ms;
    while (NowMs() < deadline) {
      pollfd p{pty_->master_fd(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(deadline - NowMs())) <= 0) continue;
      char buf[16384];
      absl::StatusOr<size_t> n = pty_->Read(buf, sizeof(buf));
      if (!n.ok()) return;
      std::string answers = emulator_.Feed(absl::string_view(buf, *n));
      // A lost answer shows as a wrong screen, which the replay reports.
      if (!answers.empty()) pty_->Write(answers).IgnoreError();
      deadline = NowMs() + quiet_ms;
    }
  }
  void Type(const std::string& key) {
    const bool app_cursor = emulator_.Snapshot().modes().application_cursor_keys;
    std::string bytes;
    for (char c : key) translator_.Translate(c, app_cursor, &bytes);
    pty_->Write(bytes).IgnoreError();  // as above: a wrong screen tells
  }
  core::Framebuffer Snapshot() { return emulator_.Snapshot(); }

 private:
  std::unique_ptr<sys::Pty> pty_;
  term::Emulator emulator_;
  UserInputTranslator translator_;
};

}  // namespace

absl::StatusOr<std::vector<Screen>> ReferenceScreens(const Trace& trace) {
  sys::WindowSize size;
  size.cols = static_cast<uint16_t>(trace.width);
  size.rows = static_cast<uint16_t>(trace.height);
  absl::StatusOr<std::unique_ptr<sys::Pty>> pty = Spawn(trace, size);
  if (!pty.ok()) return pty.status();
  DirectTerminal term(*std::move(pty), trace.width, trace.height);
  std::vector<Screen> screens;
  for (const TraceStep& step : trace.steps) {
    if (step.kind == TraceStep::Kind::kExpect) {
      const int64_t limit = NowMs() + 20000;
      while (!absl::StrContains(TextOf(term.Snapshot()), step.text)) {
        if (NowMs() > limit) {
          return absl::DeadlineExceededError(absl::StrCat("reference run: no '", step.text,
                                                          "'; screen:\n",
                                                          TextOf(term.Snapshot())));
        }
        term.Drain(20, 20);
      }
      term.Drain(50, 20);
    }
    for (const std::string& key : step.keys) {
      term.Type(key);
      term.Drain(kFirstOutputMs * 2, kQuietMs * 2);
      screens.push_back(ScreenOf(term.Snapshot()));
    }
  }
  return screens;
}

namespace {

class Replayer {
 public:
  Replayer(const Trace& trace, const std::vector<Screen>& reference, const ReplayOptions& options)
      : trace_(trace),
        reference_(reference),
        options_(options),
        net_(options.seed),
        loop_(&net_),
        client_rng_(options.seed + 1),
        server_rng_(options.seed + 2) {}

  ~Replayer() {
    if (probe_fd_ >= 0) close(probe_fd_);
  }

  absl::StatusOr<ReplayResult> Run() {
    if (absl::Status st = Start(); !st.ok()) return st;
    for (const TraceStep& step : trace_.steps) {
      absl::Status st = RunStep(step);
      if (!st.ok()) return st;
    }
    loop_.SetPacing(1, absl::Milliseconds(1));
    RunFor(absl::Milliseconds(200));  // late output, paced in real time
    loop_.SetPacing(0, absl::InfiniteDuration());
    RunFor(kDrainAfterTrace);
    Observe(client_->last_frame());
    return Finish();
  }

 private:
  absl::Status Start() {
    net::testing::SimulatedNetwork::Host* client_host = net_.AddHost("10.0.0.1");
    net::testing::SimulatedNetwork::Host* server_host = net_.AddHost("10.0.0.2");
    net::testing::LinkParams link;
    link.delay = options_.rtt / 2;
    net_.SetLinks(client_host, server_host, link);
    ServerSessionOptions so;
    so.mode = options_.mode;
    so.width = trace_.width;
    so.height = trace_.height;
    const Trace& trace = trace_;
    auto server = ServerSession::Create(
        {&loop_, &net_, *server_host->Bind(kPort), nullptr, absl::BitGenRef(server_rng_)}, Key(),
        so, [this, &trace](sys::WindowSize size) {
          absl::StatusOr<std::unique_ptr<sys::Pty>> pty = Spawn(trace, size);
          if (pty.ok() && probe_fd_ < 0) {
            // A second opener of the slave, only to ask how much input the
            // program has not read yet (never read from).
            probe_fd_ = open((*pty)->slave_path().c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK);
            loop_.set_input_probe(probe_fd_, (*pty)->master_fd());
          }
          return pty;
        });
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    ClientSessionOptions co;
    co.mode = options_.mode;
    co.server = server_host->ip().WithPort(kPort);
    co.width = trace_.width;
    co.height = trace_.height;
    co.predict = options_.predict;
    co.predict_mosh_compatible = options_.mosh_engine;
    auto client = ClientSession::Create(
        {&loop_, &net_, *client_host->Open(net::AddressFamily::kIPv4), client_host,
         absl::BitGenRef(client_rng_)},
        Key(), co, [this](const core::Framebuffer& f, bool) { OnDraw(f); });
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
    return absl::OkStatus();
  }

  absl::Status RunStep(const TraceStep& step) {
    switch (step.kind) {
      case TraceStep::Kind::kPause:
        RunFor(step.gap);
        return absl::OkStatus();
      case TraceStep::Kind::kExpect:
        return Expect(step.text);
      case TraceStep::Kind::kType:
        for (const std::string& key : step.keys) {
          RunFor(step.gap);
          TypeKey(key);
        }
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  // Waits (paced in real time) until the client holds a screen with `text`.
  absl::Status Expect(const std::string& text) {
    loop_.SetPacing(1, absl::Milliseconds(1));
    const net::MonoTime end = net_.Now() + kExpectLimit;
    while (!absl::StrContains(TextOf(client_->server_framebuffer()), text)) {
      if (net_.Now() >= end) {
        return absl::DeadlineExceededError(absl::StrCat(
            trace_.name, ": no '", text, "' on the client; server screen:\n",
            TextOf(server_->transport().local_state().framebuffer())));
      }
      Step(absl::Milliseconds(1));
    }
    loop_.SetPacing(0, absl::InfiniteDuration());
    return absl::OkStatus();
  }

  void TypeKey(const std::string& key) {
    key_time_.push_back(net_.Now());
    key_end_byte_.push_back((key_end_byte_.empty() ? 0 : key_end_byte_.back()) + key.size());
    client_->HandleInput(key);
    client_->Service();
    Observe(client_->last_frame());
    if (options_.debug) Debug(key);
  }

  // ReplayOptions::debug: what was drawn right after each key vs expected.
  void Debug(const std::string& key) {
    const int k = static_cast<int>(key_time_.size()) - 1;
    const Screen shown = ScreenOf(client_->last_frame());
    const Screen& want = reference_[k];
    std::fprintf(stderr, "key %d %s: %s", k, absl::CEscape(key).c_str(),
                 next_unresolved_ > k ? "shown\n" : "NOT shown\n");
    if (next_unresolved_ > k) return;
    std::fprintf(stderr, "  cursor drawn %d,%d want %d,%d\n", shown.row, shown.col, want.row,
                 want.col);
    std::vector<std::string> a = absl::StrSplit(shown.text, '\n');
    std::vector<std::string> b = absl::StrSplit(want.text, '\n');
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (a[i] != b[i]) {
        std::fprintf(stderr, "  row %zu drawn [%s]\n  row %zu want  [%s]\n", i, a[i].c_str(), i,
                     b[i].c_str());
      }
    }
  }

  void RunFor(absl::Duration d) {
    const net::MonoTime end = net_.Now() + d;
    while (net_.Now() < end) Step(end - net_.Now());
  }

  void Step(absl::Duration limit) {
    // At least a little virtual time per step, so a component that keeps
    // asking for an immediate wakeup cannot stall the replay.
    absl::Duration wait = std::min({client_->WaitTime(), server_->WaitTime()});
    wait = std::min(limit, std::max(wait, absl::Microseconds(100)));
    loop_.RunOnce(wait).IgnoreError();  // the simulated loop's RunOnce cannot fail
    if (server_->transport().remote_state_num() != server_seen_num_) {
      server_seen_num_ = server_->transport().remote_state_num();
      loop_.Settle();  // the program answers "at once" in virtual time
    }
    server_->Service();
    client_->Service();
  }

  void OnDraw(const core::Framebuffer& frame) {
    ++result_.frames;
    for (int y = 0; y < frame.height(); ++y) {
      for (int x = 0; x < frame.width(); ++x) {
        const std::string& text = frame.cell(y, x).text;
        if (!text.empty() && !trace_.secret.empty() &&
            text.find_first_of(trace_.secret) != std::string::npos) {
          ++result_.secret_cells_drawn;
        }
      }
    }
    Observe(frame);
  }

  // Resolves every typed key whose screen (or a later one's) is shown.
  void Observe(const core::Framebuffer& frame) {
    const int typed = static_cast<int>(key_time_.size());
    if (next_unresolved_ >= typed) return;
    const Screen shown = ScreenOf(frame);
    for (int j = typed - 1; j >= next_unresolved_; --j) {
      if (!(reference_[j] == shown)) continue;
      for (int k = next_unresolved_; k <= j; ++k) {
        response_.resize(typed, -1);
        response_[k] = absl::ToDoubleMilliseconds(net_.Now() - key_time_[k]);
      }
      next_unresolved_ = j + 1;
      return;
    }
  }

  ReplayResult Finish() {
    ReplayResult& r = result_;
    r.keys = static_cast<int>(key_time_.size());
    response_.resize(r.keys, -1);
    std::vector<double> times;
    for (int k = 0; k < r.keys; ++k) {
      if (k > 0 && reference_[k] == reference_[k - 1]) continue;  // no visible effect
      ++r.measured;
      if (response_[k] < 0) {
        ++r.never_shown;
        continue;
      }
      times.push_back(response_[k]);
      if (response_[k] <= absl::ToDoubleMilliseconds(options_.instant)) ++r.instant;
    }
    std::sort(times.begin(), times.end());
    if (!times.empty()) {
      r.median_ms = times[times.size() / 2];
      double sum = 0;
      for (double t : times) sum += t;
      r.mean_ms = sum / times.size();
    }
    std::vector<bool> wrong(r.keys, false);
    for (uint64_t byte : client_->prediction().stats().mispredicted_keys) {
      auto it = std::lower_bound(key_end_byte_.begin(), key_end_byte_.end(), byte);
      if (it != key_end_byte_.end()) wrong[it - key_end_byte_.begin()] = true;
    }
    r.mispredicted = static_cast<int>(std::count(wrong.begin(), wrong.end(), true));
    if (options_.debug) {
      for (int k = 0; k < r.keys; ++k) {
        if (wrong[k]) std::fprintf(stderr, "mispredicted key %d\n", k);
      }
    }
    const core::Framebuffer& server_fb = server_->transport().local_state().framebuffer();
    r.converged = client_->last_frame() == server_fb;
    r.predictions_left = client_->prediction().active();
    r.pty_reported = client_->transport().remote_state().pty_state().has_value();
    r.final_client = TextOf(client_->last_frame());
    r.final_server = TextOf(server_fb);
    server_->OnTerminateSignal();
    loop_.set_input_probe(-1, -1);
    if (probe_fd_ >= 0) close(probe_fd_);
    probe_fd_ = -1;
    return r;
  }

  const Trace& trace_;
  const std::vector<Screen>& reference_;
  const ReplayOptions options_;
  net::testing::SimulatedNetwork net_;
  TraceLoop loop_;
  std::mt19937_64 client_rng_, server_rng_;
  std::unique_ptr<ServerSession> server_;
  std::unique_ptr<ClientSession> client_;
  uint64_t server_seen_num_ = 0;
  int probe_fd_ = -1;
  std::vector<net::MonoTime> key_time_;
  std::vector<uint64_t> key_end_byte_;  // 1-based id of each key's last byte
  std::vector<double> response_;        // ms; -1 = not shown yet
  int next_unresolved_ = 0;
  ReplayResult result_;
};

}  // namespace

absl::StatusOr<ReplayResult> ReplayTrace(const Trace& trace, const std::vector<Screen>& reference,
                                         const ReplayOptions& options) {
  if (static_cast<int>(reference.size()) != trace.key_count()) {
    return absl::InvalidArgumentError("reference screens do not match the trace");
  }
  Replayer replayer(trace, reference, options);
  return replayer.Run();
}

}  // namespace moshx::cmd::testing
