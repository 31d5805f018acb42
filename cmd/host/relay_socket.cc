#include "cmd/host/relay_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cmd/host/relay_frame.h"

namespace moshx::cmd {

absl::StatusOr<std::unique_ptr<RelaySocket>> RelaySocket::Adopt(sys::ScopedFd relay,
                                                                net::Address local) {
  const int flags = fcntl(relay.get(), F_GETFL);
  if (flags < 0 || fcntl(relay.get(), F_SETFL, flags | O_NONBLOCK) != 0 ||
      fcntl(relay.get(), F_SETFD, FD_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "fcntl (relay)");
  }
  return std::unique_ptr<RelaySocket>(new RelaySocket(std::move(relay), local));
}

RelaySocket::RelaySocket(sys::ScopedFd fd, net::Address local)
    : fd_(std::move(fd)), local_(local) {
  in_.resize(kMaxRelayFrameSize + 1);
  out_.reserve(kMaxRelayDatagramFrameSize);
}

absl::Status RelaySocket::SendTo(const net::Address& to, absl::string_view payload) {
  if (closed_) return absl::UnavailableError("the session host is gone");
  absl::Status s = EncodeRelayDatagram(to, payload, false, &out_);
  if (!s.ok()) return s;
  const ssize_t n = send(fd_.get(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(out_.size())) return absl::OkStatus();
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return absl::UnavailableError("the relay is full");
  }
  closed_ = true;
  return absl::UnavailableError("the session host is gone");
}

bool RelaySocket::ReadFrame(net::Datagram* datagram, bool* is_datagram) {
  *is_datagram = false;
  if (closed_) return false;
  const ssize_t n = recv(fd_.get(), in_.data(), in_.size(), MSG_DONTWAIT | MSG_TRUNC);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
  if (n <= 0) {  // end of stream (the host closed its end) or an error
    closed_ = true;
    return false;
  }
  if (static_cast<size_t>(n) > kMaxRelayFrameSize) {
    ++malformed_frames_;
    return true;
  }
  const absl::string_view bytes(in_.data(), static_cast<size_t>(n));
  if (bytes[0] == kRelayDatagram) {
    absl::StatusOr<RelayDatagramView> view = ParseRelayDatagram(bytes);
    if (!view.ok()) {
      ++malformed_frames_;
      return true;
    }
    datagram->payload.assign(view->datagram.data(), view->datagram.size());
    datagram->from = view->address;
    datagram->congestion_experienced = view->congestion_experienced;
    *is_datagram = true;
    return true;
  }
  absl::StatusOr<RelayFrame> frame = ParseRelayFrame(bytes);
  if (!frame.ok()) {
    ++malformed_frames_;
    return true;
  }
  control_.push_back(std::move(frame->control));
  return true;
}

absl::StatusOr<net::Datagram> RelaySocket::ReceiveFrom() {
  net::Datagram d;
  bool is_datagram = false;
  while (ReadFrame(&d, &is_datagram)) {
    if (is_datagram) return d;
  }
  return absl::UnavailableError("no datagram on the relay");
}

void RelaySocket::Poll() {
  net::Datagram d;
  bool is_datagram = false;
  while (ReadFrame(&d, &is_datagram)) {
  }
}

absl::Status RelaySocket::SendControl(const ControlMessage& message) {
  if (closed_) return absl::UnavailableError("the session host is gone");
  absl::StatusOr<std::string> frame = EncodeRelayControl(message);
  if (!frame.ok()) return frame.status();
  const ssize_t n = send(fd_.get(), frame->data(), frame->size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(frame->size())) return absl::OkStatus();
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return absl::UnavailableError("the relay is full");
  }
  closed_ = true;
  return absl::UnavailableError("the session host is gone");
}

std::deque<ControlMessage> RelaySocket::TakeControlMessages() {
  return std::exchange(control_, {});
}

absl::StatusOr<ControlMessage> ReceiveRelayControl(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string buffer(kMaxRelayFrameSize + 1, '\0');
  while (true) {
    const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::ErrnoToStatus(errno, "poll (relay)");
    if (ready == 0) return absl::DeadlineExceededError("no control message on the relay");
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) return absl::UnavailableError("the relay closed");
    if (static_cast<size_t>(n) > kMaxRelayFrameSize) {
      return absl::InvalidArgumentError("oversize relay frame");
    }
    absl::StatusOr<RelayFrame> frame =
        ParseRelayFrame(absl::string_view(buffer.data(), static_cast<size_t>(n)));
    if (!frame.ok()) return frame.status();
    if (frame->type == kRelayControl) return std::move(frame->control);
  }
}

absl::Status SendRelayControl(int fd, const ControlMessage& message) {
  absl::StatusOr<std::string> frame = EncodeRelayControl(message);
  if (!frame.ok()) return frame.status();
  while (true) {
    const ssize_t n = send(fd, frame->data(), frame->size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 1000) <= 0) return absl::UnavailableError("the relay is full");
      continue;
    }
    return absl::ErrnoToStatus(errno, "send (relay)");
  }
}

}  // namespace moshx::cmd
