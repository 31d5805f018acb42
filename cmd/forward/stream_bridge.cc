#include "cmd/forward/stream_bridge.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

namespace moshx::cmd::forward {

StreamBridge::StreamBridge(net::EventLoop* loop, net::stream::StreamMux* mux,
                           net::stream::StreamId id, sys::ScopedFd socket,
                           std::function<void()> on_done)
    : loop_(loop), mux_(mux), id_(id), socket_(std::move(socket)), on_done_(std::move(on_done)) {}

StreamBridge::~StreamBridge() {
  if (done_alarm_ != 0) loop_->CancelAlarm(done_alarm_);
  if (watching_) loop_->UnwatchFd(socket_.get());
  if (!done_ && !stream_gone_) mux_->Reset(id_, kResetSocketError);
  // The stream may outlive us: never call back into a destroyed bridge.
  if (!stream_gone_) mux_->SetCallbacks(id_, {}).IgnoreError();  // NotFound if already gone
}

void StreamBridge::Start(std::string to_socket, std::string to_stream) {
  to_socket_ = std::move(to_socket);
  to_stream_ = std::move(to_stream);
  absl::Status set = mux_->SetCallbacks(
      id_, {[this] { FromStream(); }, [this] { PushToStream(); },
            [this](uint64_t) {
              stream_gone_ = true;
              Fail(/*reset_stream=*/false);
            }});
  if (!set.ok()) {  // reset before we started
    stream_gone_ = true;
    Fail(false);
    return;
  }
  PushToStream();
  FromStream();
}

void StreamBridge::UpdateWatch() {
  if (done_) return;
  uint32_t events = 0;
  if (!socket_eof_ && to_stream_.empty()) events |= net::EventLoop::kReadable;
  if (to_socket_head_ < to_socket_.size()) events |= net::EventLoop::kWritable;
  if (events == watched_events_ && watching_) return;
  if (events == 0) {
    if (watching_) loop_->UnwatchFd(socket_.get());
    watching_ = false;
    watched_events_ = 0;
    return;
  }
  if (!loop_->WatchFd(socket_.get(), events, [this](uint32_t e) { OnSocket(e); }).ok()) {
    Fail(true);
    return;
  }
  watching_ = true;
  watched_events_ = events;
}

void StreamBridge::OnSocket(uint32_t events) {
  if (events & net::EventLoop::kWritable) WriteSocket();
  if (!done_ && (events & (net::EventLoop::kReadable | net::EventLoop::kError))) ReadSocket();
  UpdateWatch();
}

void StreamBridge::ReadSocket() {
  if (socket_eof_ || !to_stream_.empty()) return;
  char buffer[kChunk];
  size_t room = std::min(sizeof buffer, mux_->Writable(id_));
  if (room == 0) return;  // on_writable resumes us
  ssize_t n = read(socket_.get(), buffer, room);
  if (n > 0) {
    to_stream_.assign(buffer, static_cast<size_t>(n));
    PushToStream();
  } else if (n == 0) {
    socket_eof_ = true;
    PushToStream();
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    Fail(true);
  }
}

void StreamBridge::PushToStream() {
  if (done_) return;
  if (!to_stream_.empty()) {
    size_t n = mux_->Write(id_, to_stream_);
    bytes_to_stream_ += n;
    to_stream_.erase(0, n);
  }
  if (socket_eof_ && to_stream_.empty() && !stream_finished_) {
    mux_->Finish(id_);
    stream_finished_ = true;
  }
  UpdateWatch();
  MaybeDone();
}

void StreamBridge::FromStream() {
  if (done_) return;
  if (to_socket_head_ == to_socket_.size()) {
    to_socket_ = mux_->Read(id_, kChunk);
    to_socket_head_ = 0;
  }
  WriteSocket();
  UpdateWatch();
  MaybeDone();
}

void StreamBridge::WriteSocket() {
  while (!done_ && to_socket_head_ < to_socket_.size()) {
    ssize_t n = send(socket_.get(), to_socket_.data() + to_socket_head_,
                     to_socket_.size() - to_socket_head_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      Fail(true);
      return;
    }
    to_socket_head_ += static_cast<size_t>(n);
    bytes_to_socket_ += static_cast<uint64_t>(n);
    if (to_socket_head_ == to_socket_.size()) {
      to_socket_ = mux_->Read(id_, kChunk);  // more from the stream, if any
      to_socket_head_ = 0;
    }
  }
  if (!shut_down_ && to_socket_.empty() && mux_->AtEof(id_)) {
    stream_eof_ = true;
    shut_down_ = true;
    shutdown(socket_.get(), SHUT_WR);
  }
}

void StreamBridge::Fail(bool reset_stream) {
  if (done_) return;
  if (reset_stream && !stream_gone_) {
    mux_->Reset(id_, kResetSocketError);
    stream_gone_ = true;
  }
  done_ = true;
  if (watching_) loop_->UnwatchFd(socket_.get());
  watching_ = false;
  socket_.reset();
  if (on_done_) {
    done_alarm_ = loop_->ScheduleAlarm(net::MonoTime(), [this] {
      done_alarm_ = 0;
      on_done_();
    });
  }
}

void StreamBridge::MaybeDone() {
  if (done_ || !(stream_finished_ && stream_eof_)) return;
  done_ = true;
  if (watching_) loop_->UnwatchFd(socket_.get());
  watching_ = false;
  socket_.reset();
  if (on_done_) {
    done_alarm_ = loop_->ScheduleAlarm(net::MonoTime(), [this] {
      done_alarm_ = 0;
      on_done_();
    });
  }
}

}  // namespace moshx::cmd::forward
