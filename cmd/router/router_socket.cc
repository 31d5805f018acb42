#include "cmd/router/router_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd::router {
namespace {

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("bad router socket path '", path, "'"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

absl::StatusOr<sys::ScopedFd> ListenRouterSocket(const std::string& path) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  const std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  if (!dir.empty() && mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", dir));
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError(absl::StrCat(path, " exists and is not a socket"));
    }
    if (unlink(path.c_str()) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("unlink ", path));
  }
  sys::ScopedFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind ", path));
  }
  if (chmod(path.c_str(), 0666) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("chmod ", path));
  if (listen(fd.get(), 128) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("listen ", path));
  return fd;
}

absl::StatusOr<sys::ScopedFd> ConnectRouterSocket(const std::string& path) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  sys::ScopedFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    int e = errno;
    if (e == ENOENT || e == ECONNREFUSED) {
      return absl::NotFoundError(absl::StrCat("no router listens at ", path));
    }
    return absl::ErrnoToStatus(e, absl::StrCat("connect ", path));
  }
  return fd;
}

absl::StatusOr<uid_t> RouterPeerUid(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::ErrnoToStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  return cred.uid;
}

absl::Status SendFrame(int fd, const Frame& frame) {
  absl::StatusOr<std::string> bytes = EncodeFrame(frame);
  if (!bytes.ok()) return bytes.status();
  ssize_t n;
  do {
    n = send(fd, bytes->data(), bytes->size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return absl::ErrnoToStatus(errno, "send to the router socket");
  return absl::OkStatus();
}

absl::StatusOr<Frame> ReceiveFrame(int fd, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  int ms = timeout == absl::InfiniteDuration()
               ? -1
               : static_cast<int>(absl::ToInt64Milliseconds(timeout));
  int ready;
  do {
    ready = poll(&p, 1, ms);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return absl::ErrnoToStatus(errno, "poll");
  if (ready == 0) return absl::DeadlineExceededError("no frame from the router socket");
  std::string buffer(kMaxFrameSize + 1, '\0');
  ssize_t n;
  do {
    n = recv(fd, buffer.data(), buffer.size(), MSG_TRUNC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return absl::ErrnoToStatus(errno, "recv from the router socket");
  if (n == 0) return absl::UnavailableError("the router socket was closed");
  if (static_cast<size_t>(n) > kMaxFrameSize) {
    return absl::InvalidArgumentError(absl::StrCat("router frame of ", n, " bytes"));
  }
  buffer.resize(static_cast<size_t>(n));
  return ParseFrame(buffer);
}

}  // namespace moshx::cmd::router
