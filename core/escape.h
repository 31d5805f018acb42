// Internal to //core:diff: encoders for the escape sequences Diff() emits.
// Pure functions; thread-safe.
#ifndef MOSHX_CORE_ESCAPE_H_
#define MOSHX_CORE_ESCAPE_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "core/framebuffer.h"

namespace moshx::core {

// Number of decimal digits of n >= 0.
int DecimalLength(int n);

// Length of the CUP that moves to 0-based (y, x): CSI H or CSI y;x H.
int CupLength(int y, int x);
void AppendCup(int y, int x, std::string* out);

// Absolute SGR: CSI 0 [;attrs] [;fg] [;bg] m (CSI 0 m for the default).
void AppendSgr(const Renditions& r, std::string* out);

// OSC 8 start for `link`, or the OSC 8 end when it is null.
void AppendHyperlink(const std::shared_ptr<const Hyperlink>& link,
                     std::string* out);

// `text` without C0 controls, DEL and the characters in `also`.
std::string StripControls(absl::string_view text, absl::string_view also = "");

}  // namespace moshx::core

#endif  // MOSHX_CORE_ESCAPE_H_
