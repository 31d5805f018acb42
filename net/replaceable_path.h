// ReplaceablePath: one Path (net/path.h) whose underlying path can be put in
// place of a failed one, so a Connection keeps its association while its
// carrier is re-established: `moshx connect --transport ssh` runs its whole
// session over the SSH connection's stream (net/stream_path.h), and when
// that ssh dies the client starts a new one and puts its stream here
// (docs/ssh-path.md §5, "Reconnecting").
//
// Everything is forwarded to the current path. A Send() that fails with
// anything but Unavailable (a full buffer) marks the path failed and calls
// the failure handler once; until Replace(), sends return Unavailable (the
// datagram is dropped, as on a congested link; SSP sends newer state later).
//
// Ownership: owns the current path. Not thread-safe: loop thread only.
#ifndef MOSHX_NET_REPLACEABLE_PATH_H_
#define MOSHX_NET_REPLACEABLE_PATH_H_

#include <functional>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "net/path.h"

namespace moshx::net {

class ReplaceablePath : public Path {
 public:
  // Called once per failed path, from within Send(), with why it failed.
  using FailureHandler = std::function<void(const absl::Status& why)>;

  // `path` must not be null.
  explicit ReplaceablePath(std::unique_ptr<Path> path);
  ReplaceablePath(const ReplaceablePath&) = delete;
  ReplaceablePath& operator=(const ReplaceablePath&) = delete;

  void set_failure_handler(FailureHandler handler) { on_failure_ = std::move(handler); }
  bool failed() const { return failed_; }
  // Puts `path` in place of the current one (normally a failed one, which
  // is destroyed): it must know its peer (InvalidArgument otherwise, and
  // nothing changes). Datagrams it receives go to the receive handler.
  absl::Status Replace(std::unique_ptr<Path> path);

  void set_receive_handler(ReceiveHandler handler) override;
  absl::Status Send(absl::string_view datagram) override;
  size_t mtu() const override { return path_->mtu(); }
  std::optional<Address> peer() const override { return path_->peer(); }
  void SetPeer(const Address& peer) override { path_->SetPeer(peer); }
  void ClearPeer() override { path_->ClearPeer(); }
  Address local_address() const override { return path_->local_address(); }
  void AfterSend(MonoTime now, MonoTime last_roundtrip_success) override {
    path_->AfterSend(now, last_roundtrip_success);
  }
  void OnAuthentic(MonoTime now) override { path_->OnAuthentic(now); }
  PathStats stats() const override;

 private:
  std::unique_ptr<Path> path_;
  ReceiveHandler handler_;
  FailureHandler on_failure_;
  bool failed_ = false;
  PathStats earlier_;  // the replaced paths' counters
};

}  // namespace moshx::net

#endif  // MOSHX_NET_REPLACEABLE_PATH_H_
