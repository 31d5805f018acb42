#include "term/golden.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "term/emulator.h"
#include "term/screen_text.h"
#include "term/vt_stream.h"

namespace moshx::term {

std::string GoldenScreens(absl::string_view stream) {
  std::vector<VtEvent> events = SplitVtStream(stream);
  int width = kDefaultWidth, height = kDefaultHeight;
  size_t first = 0;
  if (!events.empty() && events[0].is_resize) {
    width = events[0].width;
    height = events[0].height;
    first = 1;
  }
  Emulator emulator(width, height);
  std::string out, answers;
  for (size_t i = first; i < events.size(); ++i) {
    const VtEvent& event = events[i];
    if (!event.is_resize) {
      answers += emulator.Feed(event.bytes);
      continue;
    }
    absl::StrAppend(&out, "=== before resize to ", event.width, "x",
                    event.height, "\n", ScreenText(emulator.Snapshot()));
    emulator.Resize(event.width, event.height);
  }
  absl::StrAppend(&out, "=== end\n", ScreenText(emulator.Snapshot()));
  if (!answers.empty()) absl::StrAppend(&out, "answers ", Quoted(answers), "\n");
  return out;
}

}  // namespace moshx::term
