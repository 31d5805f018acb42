// FrameChannel: what the stream multiplexer (net/stream/stream_mux.h) needs
// from the association it runs in.
//
// A channel sends one frame at a time, unreliably: a frame may be lost,
// duplicated, reordered or delayed, exactly like a datagram. In production
// the channel is frame type 1 of a moshx association
// (net/stream/association_streams.h); in tests it is a datagram socket of net/testing's
// SimulatedNetwork (net/stream/testing/sim_link.h). Frames travel in the
// other direction by the owner calling StreamMux::OnFrame().
//
// Thread-safety: none; loop thread only.
#ifndef MOSHX_NET_STREAM_FRAME_CHANNEL_H_
#define MOSHX_NET_STREAM_FRAME_CHANNEL_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace moshx::net::stream {

class FrameChannel {
 public:
  virtual ~FrameChannel() = default;

  // Sends one frame of at most max_frame_size() bytes. An error means the
  // frame did not leave; the multiplexer counts it and treats it as lost.
  virtual absl::Status SendFrame(absl::string_view frame) = 0;

  // Largest frame SendFrame() takes now. May change between calls (a path
  // change, an MTU reduction); must stay >= kMinFrameSize (wire_format.h).
  virtual size_t max_frame_size() const = 0;
};

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_FRAME_CHANNEL_H_
