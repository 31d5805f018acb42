// Fuzzes core::Diff against the real emulator: the input (after two size
// bytes) is pty output, cut into steps at every 0xFF byte; after each step
// the screen is sent through core::Diff to a second emulator, which must end
// up showing exactly the same framebuffer (term::RoundTrip). A mismatch
// aborts with the report on stderr.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "term/emulator.h"
#include "term/round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int width = moshx::term::Emulator::kMinWidth + data[0] % 60;
  const int height = 1 + data[1] % 20;
  moshx::term::Emulator source(width, height);
  moshx::term::RoundTrip round_trip(width, height);
  const std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t pos = 0;
  for (int step = 0; step < 16 && pos <= input.size(); ++step) {
    size_t end = input.find('\xff', pos);
    if (end == std::string::npos) end = input.size();
    (void)source.Feed(input.substr(pos, end - pos));
    const std::string report = round_trip.Step(source.Snapshot());
    if (!report.empty()) {
      std::fprintf(stderr, "round trip failed at step %d:\n%s\n", step,
                   report.c_str());
      std::abort();
    }
    pos = end + 1;
  }
  return 0;
}
