#include "cmd/host/control_socket.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace moshx::cmd {
namespace {

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": path too long for a Unix socket (", sizeof(addr.sun_path) - 1,
                     " bytes at most)"));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Milliseconds for poll(2): -1 for infinite, at least 0.
int PollTimeout(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

}  // namespace

std::string ControlDirectory(const std::string& xdg_runtime_dir, uid_t uid) {
  if (!xdg_runtime_dir.empty()) return absl::StrCat(xdg_runtime_dir, "/moshx");
  return absl::StrCat("/tmp/moshx-", uid);
}

std::string ControlSocketPath(const std::string& dir) { return absl::StrCat(dir, "/host.sock"); }
std::string ControlLockPath(const std::string& dir) { return absl::StrCat(dir, "/host.lock"); }

std::string ControlSocketPath(const std::string& dir, const std::string& tag) {
  return absl::StrCat(dir, "/host-", tag, ".sock");
}
std::string ControlLockPath(const std::string& dir, const std::string& tag) {
  return absl::StrCat(dir, "/host-", tag, ".lock");
}

std::vector<std::string> OtherHostSockets(const std::string& dir, const std::string& own) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    const absl::string_view name = e->d_name;
    if (!absl::StartsWith(name, "host") || !absl::EndsWith(name, ".sock")) continue;
    std::string path = absl::StrCat(dir, "/", name);
    if (path != own) out.push_back(std::move(path));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status EnsurePrivateDirectory(const std::string& dir, uid_t uid) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", dir));
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::PermissionDeniedError(
        absl::StrCat(dir, " is not a directory (a symlink or file put there?): refusing it"));
  }
  if (st.st_uid != uid) {
    return absl::PermissionDeniedError(absl::StrCat("permission denied: ", dir,
                                                    " belongs to uid ", st.st_uid,
                                                    ", not to you (uid ", uid, ")"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s has mode %03o: other users could reach your sessions (chmod 700 it)", dir,
        st.st_mode & 0777));
  }
  return absl::OkStatus();
}

absl::StatusOr<sys::ScopedFd> ListenControlSocket(const std::string& path) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  sys::ScopedFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot remove the old ", path));
  }
  // The socket is created 0600: no window in which it is wider.
  const mode_t old_mask = umask(0177);
  const int bound = bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  const int bind_errno = errno;
  umask(old_mask);
  if (bound != 0) return absl::ErrnoToStatus(bind_errno, absl::StrCat("bind ", path));
  if (listen(fd.get(), 16) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("listen ", path));
  return fd;
}

absl::StatusOr<sys::ScopedFd> ConnectControlSocket(const std::string& path) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  sys::ScopedFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ECONNREFUSED) {
      return absl::NotFoundError(absl::StrCat("no session host listens on ", path));
    }
    if (e == EACCES || e == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat("permission denied: ", path,
                                                      " belongs to another user"));
    }
    return absl::ErrnoToStatus(e, absl::StrCat("connect ", path));
  }
  return fd;
}

absl::StatusOr<uid_t> PeerUid(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::ErrnoToStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  return cred.uid;
}

absl::StatusOr<sys::ScopedFd> LockFile(const std::string& path, absl::Duration timeout) {
  sys::ScopedFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  const absl::Time deadline = absl::Now() + timeout;
  while (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return absl::ErrnoToStatus(errno, absl::StrCat("flock ", path));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(path, " stayed locked for ",
                                                      absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return fd;
}

absl::Status SendControlMessage(int fd, const ControlMessage& message, int pass_fd) {
  absl::StatusOr<std::string> bytes = EncodeControlMessage(message);
  if (!bytes.ok()) return bytes.status();
  iovec iov{bytes->data(), bytes->size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (pass_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  while (true) {
    const ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {  // a nonblocking socket whose peer is slow: wait briefly
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 1000) <= 0) return absl::UnavailableError("control peer not reading");
      continue;
    }
    return absl::ErrnoToStatus(errno, "sendmsg (control socket)");
  }
}

absl::StatusOr<ReceivedMessage> ReceiveControlMessage(int fd, absl::Duration timeout) {
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  std::vector<char> buffer(kMaxMessageSize + 1);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, PollTimeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::ErrnoToStatus(errno, "poll (control socket)");
    if (ready == 0) return absl::DeadlineExceededError("no answer on the control socket");
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "recvmsg (control socket)");
    ReceivedMessage out;
    std::vector<sys::ScopedFd> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int passed;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.emplace_back(passed);
      }
    }
    if (n == 0) return absl::UnavailableError("the control peer closed the connection");
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || fds.size() > 1) {
      return absl::InvalidArgumentError("control packet too large or with too many descriptors");
    }
    absl::StatusOr<ControlMessage> parsed =
        ParseControlMessage(absl::string_view(buffer.data(), static_cast<size_t>(n)));
    if (!parsed.ok()) return parsed.status();
    out.message = *std::move(parsed);
    if (!fds.empty()) out.fd = std::move(fds[0]);
    return out;
  }
}

}  // namespace moshx::cmd
