#include "net/stream/association_streams.h"

#include <utility>

#include "net/packet_format.h"

namespace moshx::net::stream {

absl::StatusOr<std::unique_ptr<AssociationStreams>> AssociationStreams::Create(
    EventLoop* loop, const Clock* clock, TransportCore* core, MuxConfig config) {
  if (core->connection().mode() != WireMode::kMoshx) {
    return absl::FailedPreconditionError("streams need moshx mode");
  }
  std::unique_ptr<AssociationStreams> streams(new AssociationStreams(core));
  FrameChannel* channel = streams.get();
  streams->mux_ = std::make_unique<StreamMux>(loop, clock, channel, std::move(config));
  StreamMux* mux = streams->mux_.get();
  core->set_frame_handler(kFrameTypeStreams, [mux](absl::string_view f) { mux->OnFrame(f); });
  return streams;
}

AssociationStreams::~AssociationStreams() {
  core_->set_frame_handler(kFrameTypeStreams, nullptr);
}

absl::Status AssociationStreams::SendFrame(absl::string_view frame) {
  return core_->SendFrame(kFrameTypeStreams, frame);
}

size_t AssociationStreams::max_frame_size() const { return core_->max_frame_size(); }

}  // namespace moshx::net::stream
