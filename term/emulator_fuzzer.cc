// Fuzzes term::Emulator with arbitrary pty output. The first bytes choose the
// screen size and where resizes happen; framebuffers are read between pieces
// and must always be canonical (core::Framebuffer::Validate). Never crashes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "term/emulator.h"

namespace {

// Reads one byte (0 past the end).
uint8_t Take(const uint8_t** data, size_t* size) {
  if (*size == 0) return 0;
  const uint8_t b = **data;
  ++*data;
  --*size;
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int width = 1 + Take(&data, &size) % 100;
  const int height = 1 + Take(&data, &size) % 40;
  // Piece length before each snapshot / resize decision.
  const size_t piece = 1 + Take(&data, &size) % 64;
  moshx::term::Emulator::Options options;
  options.scrollback_lines = Take(&data, &size) % 8;
  moshx::term::Emulator emulator(width, height, options);
  while (size > 0) {
    const size_t n = size < piece ? size : piece;
    (void)emulator.Feed(std::string(reinterpret_cast<const char*>(data), n));
    data += n;
    size -= n;
    const moshx::core::Framebuffer fb = emulator.Snapshot();
    if (!fb.Validate().ok()) std::abort();
    if (size > 0 && *data == 0xFF && size >= 3) {  // an in-band resize
      emulator.Resize(data[1] % 120, data[2] % 50);
      data += 3;
      size -= 3;
    }
  }
  (void)emulator.TakeScrollback();
  return 0;
}
