#include "cmd/router/router_datagram_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cmd/router/router_socket.h"

namespace moshx::cmd::router {
namespace {

constexpr absl::Duration kReconnectTimeout = absl::Seconds(1);

absl::Status SetNonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, "fcntl(O_NONBLOCK)");
  }
  return absl::OkStatus();
}

}  // namespace

RouterDatagramSocket::RouterDatagramSocket(sys::ScopedFd fd, std::string path)
    : fd_(std::move(fd)), path_(std::move(path)) {
  in_.resize(kMaxFrameSize + 1);
}

absl::StatusOr<std::unique_ptr<RouterDatagramSocket>> RouterDatagramSocket::Connect(
    const std::string& path, absl::Duration timeout) {
  absl::StatusOr<sys::ScopedFd> fd = ConnectRouterSocket(path);
  if (!fd.ok()) return fd.status();
  return Adopt(*std::move(fd), path, timeout);
}

absl::StatusOr<std::unique_ptr<RouterDatagramSocket>> RouterDatagramSocket::Adopt(
    sys::ScopedFd connection, std::string reconnect_path, absl::Duration timeout) {
  absl::Status s = SetNonblocking(connection.get());
  if (!s.ok()) return s;
  std::unique_ptr<RouterDatagramSocket> socket(
      new RouterDatagramSocket(std::move(connection), std::move(reconnect_path)));
  s = socket->ReadHello(timeout);
  if (!s.ok()) return s;
  return socket;
}

absl::Status RouterDatagramSocket::ReadHello(absl::Duration timeout) {
  absl::StatusOr<Frame> hello = ReceiveFrame(fd_.get(), timeout);
  if (!hello.ok()) return hello.status();
  if (hello->type != FrameType::kHello) {
    return absl::InvalidArgumentError("the router's first frame is not its hello");
  }
  router_address_ = hello->address;
  return absl::OkStatus();
}

absl::Status RouterDatagramSocket::ClaimNow(uint64_t id, absl::Duration timeout) {
  absl::Status s = SendFrame(fd_.get(), ClaimFrame(id));
  if (!s.ok()) return s;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<Frame> f = ReceiveFrame(fd_.get(), std::max(deadline - absl::Now(),
                                                               absl::ZeroDuration()));
    if (!f.ok()) return f.status();
    if (f->type == FrameType::kDatagram) {
      ++dropped_while_claiming_;
      continue;
    }
    if (f->id != id || (f->type != FrameType::kClaimed && f->type != FrameType::kRefused)) {
      continue;
    }
    if (f->type == FrameType::kClaimed) return absl::OkStatus();
    switch (f->reason) {
      case RefuseReason::kOtherUser:
        return absl::PermissionDeniedError(absl::StrCat(
            "connection id ", absl::Hex(id, absl::kZeroPad16), " belongs to another user"));
      case RefuseReason::kTableFull:
        return absl::ResourceExhaustedError("the router holds its maximum of sessions");
      case RefuseReason::kUserFull:
        return absl::ResourceExhaustedError("this user holds its maximum of router sessions");
    }
    return absl::InternalError("unknown refusal");
  }
}

absl::Status RouterDatagramSocket::EnsureConnected() {
  return connected_ ? absl::OkStatus() : Reconnect();
}

absl::Status RouterDatagramSocket::Claim(uint64_t id, absl::Duration timeout) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  absl::Status s = ClaimNow(id, timeout);
  if (s.ok() && std::find(ids_.begin(), ids_.end(), id) == ids_.end()) ids_.push_back(id);
  return s;
}

absl::Status RouterDatagramSocket::Forget(uint64_t id) {
  ids_.erase(std::remove(ids_.begin(), ids_.end(), id), ids_.end());
  if (!connected_) return absl::OkStatus();
  return SendFrame(fd_.get(), ForgetFrame(id));
}

void RouterDatagramSocket::Disconnected() {
  connected_ = false;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return;  // fd_ stays: reads see EOF again
  sys::ScopedFd reader(pipe_fds[0]);
  idle_writer_.reset(pipe_fds[1]);
  // The same descriptor number now reads from a pipe nobody writes to.
  dup3(reader.get(), fd_.get(), O_CLOEXEC);
}

absl::Status RouterDatagramSocket::Reconnect() {
  if (path_.empty()) return absl::UnavailableError("the router connection ended");
  absl::StatusOr<sys::ScopedFd> fresh = ConnectRouterSocket(path_);
  if (!fresh.ok()) return absl::UnavailableError(fresh.status().message());
  absl::Status s = SetNonblocking(fresh->get());
  if (!s.ok()) return s;
  if (dup3(fresh->get(), fd_.get(), O_CLOEXEC) < 0) {
    return absl::ErrnoToStatus(errno, "dup3 onto the router descriptor");
  }
  s = SetNonblocking(fd_.get());
  if (!s.ok()) return s;
  s = ReadHello(kReconnectTimeout);
  for (size_t i = 0; s.ok() && i < ids_.size(); ++i) s = ClaimNow(ids_[i], kReconnectTimeout);
  if (!s.ok()) {
    Disconnected();
    return absl::UnavailableError(absl::StrCat("reconnecting to the router: ", s.message()));
  }
  idle_writer_.reset();
  connected_ = true;
  ++reconnects_;
  return absl::OkStatus();
}

absl::Status RouterDatagramSocket::SendTo(const net::Address& to, absl::string_view payload) {
  if (!connected_) {
    absl::Status s = Reconnect();
    if (!s.ok()) return s;
  }
  absl::Status s = EncodeDatagramFrame(to, payload, false, &out_);
  if (!s.ok()) return s;
  ssize_t n = send(fd_.get(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(out_.size())) return absl::OkStatus();
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return absl::UnavailableError("the router connection is full");
  }
  Disconnected();  // EPIPE, ECONNRESET: the router went away
  return absl::UnavailableError("the router connection ended");
}

absl::StatusOr<net::Datagram> RouterDatagramSocket::ReceiveFrom() {
  while (connected_) {
    ssize_t n = recv(fd_.get(), in_.data(), in_.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    if (n <= 0) {
      Disconnected();
      break;
    }
    absl::StatusOr<Frame> f =
        static_cast<size_t>(n) > kMaxFrameSize
            ? absl::InvalidArgumentError("oversize frame")
            : ParseFrame(absl::string_view(in_.data(), static_cast<size_t>(n)));
    if (!f.ok() || f->type != FrameType::kDatagram) continue;  // nothing for the transport
    net::Datagram d;
    d.payload = std::move(f->datagram);
    d.from = f->address;
    d.congestion_experienced = f->congestion_experienced;
    return d;
  }
  return absl::UnavailableError("no datagram from the router");
}

}  // namespace moshx::cmd::router
