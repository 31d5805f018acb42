// What a mosh 1.4 terminal can hold, for sessions in mosh mode.
//
// mosh's framebuffer has no faint and no strikethrough (it ignores SGR 2
// and 9), and keeps one colour number per cell: ANSI colours 0-7 (however
// the application asked: 31 and 38;5;1 alike) are drawn as SGR 30-37, every
// other palette colour (90-97 included) as 38;5;N (docs/mosh-interop.md).
// moshx as mosh-server sends its screens in that model, so that a real
// mosh-client and moshx's client in mosh mode draw exactly the same cells.
//
// Pure functions; thread-compatible.
#ifndef MOSHX_CORE_MOSH_MODEL_H_
#define MOSHX_CORE_MOSH_MODEL_H_

#include "core/framebuffer.h"

namespace moshx::core {

// `r` as mosh stores it.
Renditions MoshRenditions(const Renditions& r);

// Every cell (and the pen) of `fb` as mosh stores it. Rows that need no
// change stay shared.
void ToMoshModel(Framebuffer* fb);

}  // namespace moshx::core

#endif  // MOSHX_CORE_MOSH_MODEL_H_
