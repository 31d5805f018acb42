#include "net/replaceable_path.h"

#include <utility>

namespace moshx::net {

ReplaceablePath::ReplaceablePath(std::unique_ptr<Path> path) : path_(std::move(path)) {}

void ReplaceablePath::set_receive_handler(ReceiveHandler handler) {
  handler_ = std::move(handler);
  path_->set_receive_handler([this](Datagram d) {
    if (handler_) handler_(std::move(d));
  });
}

absl::Status ReplaceablePath::Replace(std::unique_ptr<Path> path) {
  if (path == nullptr || !path->peer().has_value()) {
    return absl::InvalidArgumentError("ReplaceablePath: the new path must know its peer");
  }
  const PathStats s = path_->stats();
  earlier_.dropped_oversize += s.dropped_oversize;
  earlier_.send_errors += s.send_errors;
  earlier_.mtu_reductions += s.mtu_reductions;
  earlier_.port_hops += s.port_hops;
  path_ = std::move(path);
  path_->set_receive_handler([this](Datagram d) {
    if (handler_) handler_(std::move(d));
  });
  failed_ = false;
  return absl::OkStatus();
}

absl::Status ReplaceablePath::Send(absl::string_view datagram) {
  if (failed_) return absl::UnavailableError("the path is being re-established");
  absl::Status sent = path_->Send(datagram);
  if (!sent.ok() && !absl::IsUnavailable(sent)) {
    failed_ = true;
    if (on_failure_) on_failure_(sent);
  }
  return sent;
}

PathStats ReplaceablePath::stats() const {
  PathStats a = path_->stats();
  a.dropped_oversize += earlier_.dropped_oversize;
  a.send_errors += earlier_.send_errors;
  a.mtu_reductions += earlier_.mtu_reductions;
  a.port_hops += earlier_.port_hops;
  return a;
}

}  // namespace moshx::net
