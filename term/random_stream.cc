#include "term/random_stream.h"

#include <iterator>

#include "absl/strings/str_cat.h"

namespace moshx::term {
namespace {

class Generator {
 public:
  Generator(std::mt19937_64& rng, int width, int height, int max_bells)
      : rng_(rng), width_(width), height_(height), bells_left_(max_bells) {}

  std::string Piece();

 private:
  int Uniform(int lo, int hi) {  // inclusive
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Uniform(0, static_cast<int>(N) - 1)];
  }
  std::string Text();
  std::string Motion();
  std::string Edit();
  std::string Sgr();
  std::string Mode();
  std::string Osc();
  std::string Misc();

  std::mt19937_64& rng_;
  int width_;
  int height_;
  int bells_left_;
};

std::string Generator::Piece() {
  switch (Uniform(0, 13)) {
    case 0: case 1: case 2: case 3: return Text();
    case 4: case 5: return Motion();
    case 6: case 7: return Edit();
    case 8: case 9: return Sgr();
    case 10: return Mode();
    case 11: return Osc();
    default: return Misc();
  }
}

std::string Generator::Text() {
  static const char* kChars[] = {
      "a", "b", "Z", "0", " ", "~", "\xc3\xa9", "\xc3\x9f",        // é ß
      "\xe4\xb8\xad", "\xe6\x96\x87", "\xed\x95\x9c",              // 中 文 한
      "\xf0\x9f\x98\x80", "\xf0\x9f\x9a\x80",                      // emoji
      "\xef\xbc\xa1", "\xe2\x94\x80", "\xe2\x9d\xa4",              // Ａ ─ ❤
      "\xcc\x81", "\xcc\x88", "\xe2\x83\x97",                      // combining
      "\xef\xb8\x8f",                                              // VS16
  };
  std::string s;
  const int n = Uniform(1, 12);
  for (int i = 0; i < n; ++i) s += Pick(kChars);
  if (Uniform(0, 5) == 0) s += std::string(Uniform(1, 2 * width_), 'x');
  return s;
}

std::string Generator::Motion() {
  switch (Uniform(0, 9)) {
    case 0: return absl::StrCat("\x1b[", Uniform(1, height_ + 1), ";",
                                Uniform(1, width_ + 1), "H");
    case 1: return absl::StrCat("\x1b[", Uniform(0, 5), Pick({"A", "B", "C", "D"}));
    case 2: return "\r";
    case 3: return "\n";
    case 4: return "\b";
    case 5: return "\t";
    case 6: return absl::StrCat("\x1b[", Uniform(1, width_), "G");
    case 7: return absl::StrCat("\x1b[", Uniform(1, height_), "d");
    case 8: return Pick({"\x1bM", "\x1b" "D", "\x1b" "E", "\x1b[Z", "\x1b[2I"});
    default: return absl::StrCat("\x1b[", height_, ";", width_, "H");
  }
}

std::string Generator::Edit() {
  const int n = Uniform(0, 4);
  switch (Uniform(0, 8)) {
    case 0: return absl::StrCat("\x1b[", Uniform(0, 2), "J");
    case 1: return absl::StrCat("\x1b[", Uniform(0, 2), "K");
    case 2: return absl::StrCat("\x1b[", n, "X");
    case 3: return absl::StrCat("\x1b[", n, "@");
    case 4: return absl::StrCat("\x1b[", n, "P");
    case 5: return absl::StrCat("\x1b[", n, Pick({"L", "M"}));
    case 6: return absl::StrCat("\x1b[", n, Pick({"S", "T"}));
    case 7: {
      const int top = Uniform(1, height_), bottom = Uniform(1, height_);
      return absl::StrCat("\x1b[", top, ";", bottom, "r");
    }
    default: return "\x1b[r";
  }
}

std::string Generator::Sgr() {
  static const char* kAttrs[] = {"0", "1", "2", "3", "4", "5", "7", "8", "9",
                                 "21", "22", "23", "24", "25", "27", "29",
                                 "39", "49", "4:3", ""};
  switch (Uniform(0, 5)) {
    case 0: return absl::StrCat("\x1b[", Pick(kAttrs), "m");
    case 1: return absl::StrCat("\x1b[", Uniform(30, 37), ";", Uniform(40, 47), "m");
    case 2: return absl::StrCat("\x1b[", Uniform(90, 97), ";", Uniform(100, 107), "m");
    case 3: return absl::StrCat("\x1b[", Pick({"38", "48"}), ";5;", Uniform(0, 255), "m");
    case 4: return absl::StrCat("\x1b[", Pick({"38", "48"}), ";2;", Uniform(0, 255), ";",
                                Uniform(0, 255), ";", Uniform(0, 255), "m");
    default: return absl::StrCat("\x1b[", Pick(kAttrs), ";", Pick(kAttrs), "m");
  }
}

std::string Generator::Mode() {
  static const char* kModes[] = {"1", "5", "6", "7", "25", "1000", "1002",
                                 "1003", "1004", "1005", "1006", "1015",
                                 "1049", "47", "1047", "2004", "12"};
  switch (Uniform(0, 4)) {
    case 0: return Pick({"\x1b=", "\x1b>"});
    case 1: return absl::StrCat("\x1b[", Uniform(0, 6), " q");
    case 2: return Pick({"\x1b[4h", "\x1b[4l"});
    default: return absl::StrCat("\x1b[?", Pick(kModes), Pick({"h", "l"}));
  }
}

std::string Generator::Osc() {
  static const char* kTitles[] = {"", "t", "vim", "t\xc3\xa9l\xc3\xa9", "a b;c"};
  switch (Uniform(0, 5)) {
    case 0: return absl::StrCat("\x1b]", Uniform(0, 2), ";", Pick(kTitles), "\x07");
    case 1: return absl::StrCat("\x1b]", Uniform(0, 2), ";", Pick(kTitles), "\x1b\\");
    case 2: return absl::StrCat("\x1b]52;", Pick({"c", "p", "s0", ""}), ";",
                                Pick({"aGk=", "", "eA=="}), "\x07");
    case 3: return absl::StrCat("\x1b]8;", Pick({"", "id=1"}), ";",
                                Pick({"http://a/", "file:///x"}), "\x1b\\");
    default: return "\x1b]8;;\x1b\\";
  }
}

std::string Generator::Misc() {
  switch (Uniform(0, 5)) {
    case 0:
      if (bells_left_ > 0) {
        --bells_left_;
        return "\x07";
      }
      return "";
    case 1: return Pick({"\x1b" "7", "\x1b" "8"});
    case 2: return Pick({"\x1b(0lqk\x1b(B", "\x0e", "\x0f", "\x1b(B"});
    case 3: return Pick({"\x1b[c", "\x1b[5n", "\x1b[6n", "\x1b[>c"});  // queries
    case 4: return "\x1b[!p";
    default: return Pick({"\x1b" "c", "\x1b#8"});
  }
}

}  // namespace

std::string RandomVtStream(std::mt19937_64& rng, int pieces, int width,
                           int height, int max_bells) {
  Generator gen(rng, width, height, max_bells);
  std::string out;
  for (int i = 0; i < pieces; ++i) out += gen.Piece();
  return out;
}

}  // namespace moshx::term
