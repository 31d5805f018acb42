// AssociationStreams: a StreamMux (net/stream/stream_mux.h) running on one
// frame type of a moshx association (net/transport_core.h, frame type
// kFrameTypeStreams; layout in docs/protocol.md §3.5 and docs/streams.md).
//
// It is the FrameChannel of its mux: frames the mux sends become typed
// datagrams of the association, sent at once; typed frames the association
// receives go to StreamMux::OnFrame(). The terminal's SSP datagrams share the
// association's socket and key but never wait for the mux: the mux paces
// itself (congestion_controller.h) and the SSP sender sends on its own
// schedule.
//
// Path changes: the owner calls OnPathChange() when the association's peer
// address changes (a roam seen by the server), so the congestion model
// restarts for the new path.
//
// Ownership: `loop`, `clock` and `core` must outlive this object; it installs
// a frame handler on `core` and removes it when destroyed. The mux lives as
// long as this object. Loop thread only.
#ifndef MOSHX_NET_STREAM_ASSOCIATION_STREAMS_H_
#define MOSHX_NET_STREAM_ASSOCIATION_STREAMS_H_

#include <cstddef>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/clock.h"
#include "net/event_loop.h"
#include "net/stream/frame_channel.h"
#include "net/stream/stream_mux.h"
#include "net/transport_core.h"

namespace moshx::net::stream {

class AssociationStreams : private FrameChannel {
 public:
  // FailedPrecondition unless `core` speaks moshx mode (mosh mode has no
  // frame types: its wire is mosh's).
  static absl::StatusOr<std::unique_ptr<AssociationStreams>> Create(EventLoop* loop,
                                                                    const Clock* clock,
                                                                    TransportCore* core,
                                                                    MuxConfig config);
  ~AssociationStreams() override;
  AssociationStreams(const AssociationStreams&) = delete;
  AssociationStreams& operator=(const AssociationStreams&) = delete;

  StreamMux& mux() { return *mux_; }
  const StreamMux& mux() const { return *mux_; }
  void OnPathChange() { mux_->OnPathChange(); }

 private:
  explicit AssociationStreams(TransportCore* core) : core_(core) {}
  absl::Status SendFrame(absl::string_view frame) override;
  size_t max_frame_size() const override;

  TransportCore* const core_;
  std::unique_ptr<StreamMux> mux_;
};

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_ASSOCIATION_STREAMS_H_
