// Fuzzes PredictionEngine with a script of operations: typed chunks, server
// screen edits, cursor moves, echo acks, pty reports, resizes, time steps.
// It must never crash, every drawn frame must stay canonical, and nothing may
// stay predicted while the pty reports secret input.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/framebuffer.h"
#include "core/prediction_engine.h"

namespace {

using moshx::core::Cell;
using moshx::core::Framebuffer;
using moshx::core::PredictionDisplay;
using moshx::core::PredictionEngine;
using moshx::protocol::PtyState;
using moshx::core::ServerView;

class Script {
 public:
  Script(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Step(Script& s, PredictionEngine& engine, Framebuffer& fb, ServerView& view,
          absl::Duration& now, uint64_t& sent) {
  const uint8_t op = s.Next();
  switch (op % 8) {
    case 0: {  // typed chunk
      std::string chunk;
      for (int n = 1 + s.Next() % 6; n > 0; --n) chunk += static_cast<char>(s.Next());
      engine.SetLocalFrameSent(sent++);
      engine.NewUserBytes(chunk, view, now);
      break;
    }
    case 1:
      view.echo_ack = std::min<uint64_t>(sent, view.echo_ack + s.Next() % 3);
      break;
    case 2: {
      Cell c;
      c.text = std::string(1, static_cast<char>('a' + s.Next() % 26));
      fb.MutableRow(s.Next() % fb.height())->Set(s.Next() % fb.width(), c);
      break;
    }
    case 3:
      fb.mutable_cursor()->row = s.Next() % fb.height();
      fb.mutable_cursor()->col = s.Next() % fb.width();
      break;
    case 4: {
      const uint8_t b = s.Next();
      view.pty = PtyState{(b & 1) != 0, (b & 2) != 0, (b & 4) != 0, b & 8u, (b & 16) != 0};
      view.pty->fresh = (b & 32) != 0;
      fb.mutable_modes()->bracketed_paste = (b & 64) != 0;
      break;
    }
    case 5:
      fb.Resize(2 + s.Next() % 12, 1 + s.Next() % 5);
      break;
    case 6:
      now += absl::Milliseconds(s.Next() * 25);
      engine.SetTiming(absl::Milliseconds(20 + s.Next()), absl::Milliseconds(s.Next() * 4));
      break;
    default:
      engine.Reset();
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Script s(data, size);
  const uint8_t config = s.Next();
  PredictionEngine engine({static_cast<PredictionDisplay>(config % 4), (config & 4) != 0});
  Framebuffer fb(8, 3);
  ServerView view{&fb, 0, std::nullopt};
  absl::Duration now = absl::Seconds(1);
  uint64_t sent = 0;
  while (!s.done()) {
    Step(s, engine, fb, view, now, sent);
    engine.Cull(view, now);
    Framebuffer frame = fb;
    engine.Apply(&frame);
    if (!frame.Validate().ok()) std::abort();
    if (view.pty.has_value() && view.pty->secret() && engine.active()) std::abort();
  }
  return 0;
}
