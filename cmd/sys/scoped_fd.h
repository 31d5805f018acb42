// ScopedFd: sole owner of one POSIX file descriptor, closed on destruction.
//
// Move-only. A default-constructed or moved-from ScopedFd holds -1 and closes
// nothing. close(2) errors at destruction are ignored (nothing useful can be
// done with them; EINTR must not be retried on Linux). Not thread-safe; the
// usual rule applies: one owner, one thread at a time.
//
//   ScopedFd fd(open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd.valid()) return absl::ErrnoToStatus(errno, "open");
//   read(fd.get(), ...);
#ifndef MOSHX_CMD_SYS_SCOPED_FD_H_
#define MOSHX_CMD_SYS_SCOPED_FD_H_

#include <unistd.h>

#include <utility>

namespace moshx::sys {

class ScopedFd {
 public:
  ScopedFd() = default;
  // Takes ownership of `fd` (may be -1, meaning "none").
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { reset(); }

  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing; the caller now owns the result.
  int release() { return std::exchange(fd_, -1); }

  // Closes the current descriptor (if any) and takes ownership of `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0 && fd_ != fd) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_SCOPED_FD_H_
