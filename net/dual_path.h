// DualPath: a client's Path (net/path.h) over two paths — a preferred one
// (UDP) and a fallback (the SSH connection's stream, net/stream_path.h) —
// that sends on whichever works, judged only by authentic datagrams (the
// Connection's OnAuthentic()), never by what an attacker could send
// (docs/ssh-path.md §5).
//
// Rules (times from the injected clock; evaluated on every send and every
// authentic datagram):
//   * It starts on the preferred path (or, with start_on_fallback, on the
//     fallback, probing at once). When no authentic datagram came over it
//     within `start_grace` of creation, or none for `silence` later, it
//     moves to the fallback (unless the fallback has failed).
//   * On the fallback it probes: every `probe_interval` it opens a window of
//     `probe_window` during which each datagram also goes over the preferred
//     path, first. The server follows the newest authentic datagram's source
//     (docs/protocol.md §8.1), so when UDP works again the preferred copies
//     move the server there, its answers arrive over UDP, and the first
//     authentic one moves the client back at once.
//   * A fallback whose Send() fails with anything but Unavailable (the SSH
//     connection ended) is given up: back to the preferred path for good.
// The handler set with set_change_handler() is told each move and why.
//
// MTU: the smaller of the two (the preferred one's, for UDP), so a move
// never makes a datagram too large. peer() is the preferred path's (the
// server's address); stats() add up both.
//
// Ownership: owns both paths; `clock` must outlive it. Not thread-safe:
// loop thread only.
#ifndef MOSHX_NET_DUAL_PATH_H_
#define MOSHX_NET_DUAL_PATH_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/clock.h"
#include "net/path.h"

namespace moshx::net {

struct DualPathOptions {
  absl::Duration start_grace = absl::Seconds(2);
  // Longer than the 3 s heartbeat (docs/protocol.md §6.6), so an idle but
  // working UDP path is never left.
  absl::Duration silence = absl::Seconds(4);
  absl::Duration probe_interval = absl::Seconds(2);
  absl::Duration probe_window = absl::Milliseconds(500);
  // Start on the fallback, probing the preferred path at once (the first
  // window opens with the first send): for a client whose SSH connection
  // goes through a ProxyJump/ProxyCommand host, where UDP to the server
  // rarely works (docs/ssh-path.md §5).
  bool start_on_fallback = false;
};

class DualPath : public Path {
 public:
  enum class Which { kPreferred, kFallback };
  // Called after each move with the path now used and why ("no UDP reply
  // within 2s", "UDP silent for 4.5s", "UDP works again", ...).
  using ChangeHandler = std::function<void(Which now, const std::string& reason)>;

  // Both paths must not be null and must know their peer.
  static absl::StatusOr<std::unique_ptr<DualPath>> Create(const Clock* clock,
                                                          std::unique_ptr<Path> preferred,
                                                          std::unique_ptr<Path> fallback,
                                                          DualPathOptions options = {});
  DualPath(const DualPath&) = delete;
  DualPath& operator=(const DualPath&) = delete;

  void set_change_handler(ChangeHandler handler) { on_change_ = std::move(handler); }
  // A new fallback in place of one that failed (a reconnected SSH
  // connection): it must know its peer. The rules apply to it from the next
  // send on, so while UDP stays silent the session moves onto it at once.
  absl::Status ReplaceFallback(std::unique_ptr<Path> fallback);
  Which active() const { return active_; }
  bool fallback_failed() const { return fallback_failed_; }
  // Datagrams sent over each path (probes included).
  uint64_t sent_preferred() const { return sent_preferred_; }
  uint64_t sent_fallback() const { return sent_fallback_; }

  void set_receive_handler(ReceiveHandler handler) override { handler_ = std::move(handler); }
  absl::Status Send(absl::string_view datagram) override;
  size_t mtu() const override;
  std::optional<Address> peer() const override { return preferred_->peer(); }
  void SetPeer(const Address& peer) override { preferred_->SetPeer(peer); }
  void ClearPeer() override { preferred_->ClearPeer(); }
  Address local_address() const override;
  void AfterSend(MonoTime now, MonoTime last_roundtrip_success) override;
  void OnAuthentic(MonoTime now) override;
  PathStats stats() const override;

 private:
  DualPath(const Clock* clock, std::unique_ptr<Path> preferred, std::unique_ptr<Path> fallback,
           DualPathOptions options);
  void Deliver(Which from, Datagram datagram);
  void Evaluate(MonoTime now);
  void MoveTo(Which to, const std::string& reason);

  const Clock* const clock_;
  std::unique_ptr<Path> preferred_;
  std::unique_ptr<Path> fallback_;
  const DualPathOptions options_;
  const MonoTime created_;
  Which active_ = Which::kPreferred;
  bool fallback_failed_ = false;
  std::optional<MonoTime> last_preferred_authentic_;
  MonoTime next_probe_;   // when the next probe window opens (on the fallback)
  MonoTime probe_until_;  // the current probe window's end
  std::optional<Which> delivering_;  // the path of the datagram being handled
  uint64_t sent_preferred_ = 0;
  uint64_t sent_fallback_ = 0;
  ReceiveHandler handler_;
  ChangeHandler on_change_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_DUAL_PATH_H_
