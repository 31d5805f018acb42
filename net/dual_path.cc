#include "net/dual_path.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace moshx::net {

absl::StatusOr<std::unique_ptr<DualPath>> DualPath::Create(const Clock* clock,
                                                           std::unique_ptr<Path> preferred,
                                                           std::unique_ptr<Path> fallback,
                                                           DualPathOptions options) {
  if (clock == nullptr || preferred == nullptr || fallback == nullptr) {
    return absl::InvalidArgumentError("DualPath: null clock or path");
  }
  if (!preferred->peer().has_value() || !fallback->peer().has_value()) {
    return absl::InvalidArgumentError("DualPath: both paths must know their peer");
  }
  std::unique_ptr<DualPath> path(
      new DualPath(clock, std::move(preferred), std::move(fallback), options));
  DualPath* p = path.get();
  p->preferred_->set_receive_handler(
      [p](Datagram d) { p->Deliver(Which::kPreferred, std::move(d)); });
  p->fallback_->set_receive_handler(
      [p](Datagram d) { p->Deliver(Which::kFallback, std::move(d)); });
  return path;
}

DualPath::DualPath(const Clock* clock, std::unique_ptr<Path> preferred,
                   std::unique_ptr<Path> fallback, DualPathOptions options)
    : clock_(clock),
      preferred_(std::move(preferred)),
      fallback_(std::move(fallback)),
      options_(options),
      created_(clock->Now()),
      active_(options.start_on_fallback ? Which::kFallback : Which::kPreferred),
      next_probe_(created_),
      probe_until_(created_) {}

void DualPath::Deliver(Which from, Datagram datagram) {
  if (!handler_) return;
  delivering_ = from;
  handler_(std::move(datagram));
  delivering_.reset();
}

void DualPath::OnAuthentic(MonoTime now) {
  if (delivering_ != Which::kPreferred) return;
  last_preferred_authentic_ = now;
  if (active_ == Which::kFallback) MoveTo(Which::kPreferred, "UDP works again");
}

void DualPath::Evaluate(MonoTime now) {
  if (active_ != Which::kPreferred || fallback_failed_) return;
  if (!last_preferred_authentic_.has_value()) {
    if (now - created_ >= options_.start_grace) {
      MoveTo(Which::kFallback,
             absl::StrCat("no UDP reply within ", absl::FormatDuration(options_.start_grace)));
    }
  } else if (now - *last_preferred_authentic_ >= options_.silence) {
    MoveTo(Which::kFallback,
           absl::StrCat("UDP silent for ", absl::FormatDuration(now - *last_preferred_authentic_)));
  }
}

void DualPath::MoveTo(Which to, const std::string& reason) {
  if (to == active_) return;
  active_ = to;
  // The first probe window opens a full interval after the move.
  const MonoTime now = clock_->Now();
  next_probe_ = now + options_.probe_interval;
  probe_until_ = now;
  if (on_change_) on_change_(to, reason);
}

absl::Status DualPath::Send(absl::string_view datagram) {
  const MonoTime now = clock_->Now();
  Evaluate(now);
  if (active_ == Which::kPreferred) {
    ++sent_preferred_;
    return preferred_->Send(datagram);
  }
  if (now >= next_probe_) {
    probe_until_ = now + options_.probe_window;
    next_probe_ = now + options_.probe_interval;
  }
  if (now < probe_until_) {
    // The probe goes first: when UDP works it reaches the server first.
    ++sent_preferred_;
    preferred_->Send(datagram).IgnoreError();  // a blocked UDP path is what we probe
  }
  ++sent_fallback_;
  absl::Status sent = fallback_->Send(datagram);
  if (!sent.ok() && !absl::IsUnavailable(sent)) {
    fallback_failed_ = true;
    MoveTo(Which::kPreferred, absl::StrCat("the SSH path failed: ", sent.message()));
  }
  return sent;
}

absl::Status DualPath::ReplaceFallback(std::unique_ptr<Path> fallback) {
  if (fallback == nullptr || !fallback->peer().has_value()) {
    return absl::InvalidArgumentError("DualPath: the new fallback must know its peer");
  }
  fallback_ = std::move(fallback);
  fallback_->set_receive_handler(
      [this](Datagram d) { Deliver(Which::kFallback, std::move(d)); });
  fallback_failed_ = false;
  return absl::OkStatus();
}

size_t DualPath::mtu() const { return std::min(preferred_->mtu(), fallback_->mtu()); }

Address DualPath::local_address() const {
  return active_ == Which::kPreferred ? preferred_->local_address()
                                      : fallback_->local_address();
}

void DualPath::AfterSend(MonoTime now, MonoTime last_roundtrip_success) {
  // Port hopping (UDP) only while UDP carries the session: on the fallback
  // the round trips are the SSH path's.
  if (active_ == Which::kPreferred) preferred_->AfterSend(now, last_roundtrip_success);
}

PathStats DualPath::stats() const {
  PathStats a = preferred_->stats();
  const PathStats b = fallback_->stats();
  a.dropped_oversize += b.dropped_oversize;
  a.send_errors += b.send_errors;
  a.mtu_reductions += b.mtu_reductions;
  a.port_hops += b.port_hops;
  return a;
}

}  // namespace moshx::net
