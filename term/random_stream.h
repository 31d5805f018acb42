// term::RandomVtStream: seeded random terminal output, for property tests,
// benchmarks and fuzz seeds.
//
// The stream mixes printable text (ASCII, accented Latin, CJK and emoji wide
// characters, combining marks), C0 controls, cursor motion, erasing,
// insert/delete, scrolling and scroll regions, SGR (attributes, 16, 256 and
// 24-bit colours), DEC private modes (cursor keys, keypad, reverse video,
// origin, autowrap, cursor visibility, mouse tracking and encodings, focus,
// bracketed paste, alternate screen), cursor shapes, titles, OSC 52 and
// OSC 8, charset switches, save/restore cursor and a few bells. Every
// sequence is complete, so streams can be concatenated.
//
// Deterministic for a given generator state; thread-compatible.
#ifndef MOSHX_TERM_RANDOM_STREAM_H_
#define MOSHX_TERM_RANDOM_STREAM_H_

#include <random>
#include <string>

namespace moshx::term {

// About `pieces` random items for a screen of `width` x `height` (used to
// aim cursor motion). At most `max_bells` BELs in total.
std::string RandomVtStream(std::mt19937_64& rng, int pieces, int width,
                           int height, int max_bells = 2);

}  // namespace moshx::term

#endif  // MOSHX_TERM_RANDOM_STREAM_H_
