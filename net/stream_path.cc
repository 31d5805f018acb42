#include "net/stream_path.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace moshx::net {
namespace {

// Bytes read per read(2), and reads per readable callback (so one busy
// stream cannot starve the loop).
constexpr size_t kReadChunk = 4096;
constexpr int kMaxReadsPerWakeup = 16;

absl::Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fcntl(O_NONBLOCK) on fd ", fd));
  }
  return absl::OkStatus();
}

bool IsSocket(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

void AppendStreamFrame(absl::string_view datagram, std::string* out) {
  out->push_back(static_cast<char>(datagram.size() >> 8));
  out->push_back(static_cast<char>(datagram.size() & 0xFF));
  out->append(datagram.data(), datagram.size());
}

absl::Status StreamDeframer::Feed(absl::string_view bytes,
                                  const std::function<void(absl::string_view)>& on_datagram) {
  while (!failed_ && !bytes.empty()) {
    if (partial_.size() < kStreamFrameHeaderSize) {
      size_t take = std::min(kStreamFrameHeaderSize - partial_.size(), bytes.size());
      partial_.append(bytes.data(), take);
      bytes.remove_prefix(take);
      // A hostile length is refused as soon as it is read, before its bytes.
      if (partial_.size() == kStreamFrameHeaderSize && length() > kMaxStreamDatagram) {
        failed_ = true;
        partial_.clear();
      }
      continue;
    }
    size_t have = partial_.size() - kStreamFrameHeaderSize;
    if (have == 0 && bytes.size() >= length()) {  // whole frame in `bytes`: no copy
      size_t n = length();
      partial_.clear();
      on_datagram(bytes.substr(0, n));
      bytes.remove_prefix(n);
      continue;
    }
    size_t take = std::min(length() - have, bytes.size());
    partial_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (partial_.size() == kStreamFrameHeaderSize + length()) {
      on_datagram(absl::string_view(partial_).substr(kStreamFrameHeaderSize));
      partial_.clear();
    }
  }
  if (failed_) {
    return absl::DataLossError(absl::StrCat("stream path: frame longer than ",
                                            kMaxStreamDatagram, " bytes (stream out of step)"));
  }
  return absl::OkStatus();
}

size_t StreamDeframer::length() const {
  return (size_t{static_cast<uint8_t>(partial_[0])} << 8) | static_cast<uint8_t>(partial_[1]);
}

absl::StatusOr<std::unique_ptr<StreamPath>> StreamPath::Create(EventLoop* loop, int read_fd,
                                                               int write_fd, bool peer_known) {
  if (read_fd < 0 || write_fd < 0) {
    if (read_fd >= 0) close(read_fd);
    if (write_fd >= 0 && write_fd != read_fd) close(write_fd);
    return absl::InvalidArgumentError("StreamPath needs two open descriptors");
  }
  // From here the path owns the descriptors: its destructor closes them.
  std::unique_ptr<StreamPath> path(new StreamPath(loop, read_fd, write_fd, peer_known));
  absl::Status s = SetNonBlocking(read_fd);
  if (s.ok() && write_fd != read_fd) s = SetNonBlocking(write_fd);
  if (s.ok()) s = path->Watch();
  if (!s.ok()) return s;
  return path;
}

StreamPath::StreamPath(EventLoop* loop, int read_fd, int write_fd, bool peer_known)
    : loop_(loop),
      read_fd_(read_fd),
      write_fd_(write_fd),
      write_is_socket_(IsSocket(write_fd)) {
  if (peer_known) peer_ = PeerAddress();
}

StreamPath::~StreamPath() {
  loop_->UnwatchFd(read_fd_);
  close(read_fd_);
  if (write_fd_ != read_fd_) {
    loop_->UnwatchFd(write_fd_);
    close(write_fd_);
  }
}

absl::Status StreamPath::Watch() {
  bool want_write = !pending_.empty();
  if (read_fd_ == write_fd_) {
    return loop_->WatchFd(read_fd_, EventLoop::kReadable | (want_write ? EventLoop::kWritable : 0),
                          [this](uint32_t events) { OnEvents(events); });
  }
  absl::Status s = loop_->WatchFd(read_fd_, EventLoop::kReadable,
                                  [this](uint32_t) { ReadSome(); });
  if (!s.ok()) return s;
  if (!want_write) {
    loop_->UnwatchFd(write_fd_);
    return absl::OkStatus();
  }
  return loop_->WatchFd(write_fd_, EventLoop::kWritable, [this](uint32_t) { Flush(); });
}

void StreamPath::OnEvents(uint32_t events) {
  if (events & EventLoop::kWritable) Flush();
  if (status_.ok() && (events & (EventLoop::kReadable | EventLoop::kError))) ReadSome();
}

void StreamPath::ReadSome() {
  char buf[kReadChunk];
  for (int i = 0; i < kMaxReadsPerWakeup && status_.ok(); ++i) {
    ssize_t n = read(read_fd_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return Stop(absl::ErrnoToStatus(errno, "stream path: read"));
    }
    if (n == 0) return Stop(absl::AbortedError("stream path: end of stream"));
    absl::Status s = deframer_.Feed(absl::string_view(buf, static_cast<size_t>(n)),
                                    [this](absl::string_view datagram) {
                                      if (handler_) {
                                        handler_(Datagram{std::string(datagram), PeerAddress(),
                                                          false});
                                      }
                                    });
    if (!s.ok()) return Stop(std::move(s));
  }
}

absl::Status StreamPath::Send(absl::string_view datagram) {
  if (!status_.ok()) {
    ++stats_.send_errors;
    return status_;
  }
  if (!peer_) return absl::FailedPreconditionError("peer not known yet");
  if (datagram.size() > kMaxStreamDatagram) {
    ++stats_.send_errors;
    return absl::InvalidArgumentError(
        absl::StrCat("stream path: datagram of ", datagram.size(), " bytes"));
  }
  if (pending_.size() + kStreamFrameHeaderSize + datagram.size() > kMaxPendingBytes) {
    ++stats_.send_errors;
    return absl::UnavailableError("stream path: output buffer full (datagram dropped)");
  }
  bool was_idle = pending_.empty();
  AppendStreamFrame(datagram, &pending_);
  if (was_idle) Flush();
  if (!status_.ok()) ++stats_.send_errors;
  return status_;
}

void StreamPath::Flush() {
  size_t written = 0;
  while (written < pending_.size()) {
    const char* p = pending_.data() + written;
    size_t left = pending_.size() - written;
    ssize_t n = write_is_socket_ ? send(write_fd_, p, left, MSG_NOSIGNAL | MSG_DONTWAIT)
                                 : write(write_fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return Stop(absl::ErrnoToStatus(errno, "stream path: write"));
    }
    written += static_cast<size_t>(n);
  }
  bool was_waiting = watching_write_;
  pending_.erase(0, written);
  watching_write_ = !pending_.empty();
  if (watching_write_ != was_waiting) {
    absl::Status s = Watch();
    if (!s.ok()) Stop(std::move(s));
  }
}

void StreamPath::Stop(absl::Status why) {
  if (!status_.ok()) return;
  status_ = std::move(why);
  pending_.clear();
  watching_write_ = false;
  loop_->UnwatchFd(read_fd_);
  loop_->UnwatchFd(write_fd_);
}

}  // namespace moshx::net
