// Every recorded stream testdata/vt/NAME.in must render to NAME.screen
// (regenerate with `bazel run //term:vt_golden` after an intended change).
#include <dirent.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "term/golden.h"

namespace moshx::term {
namespace {

constexpr char kDir[] = "testdata/vt";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::vector<std::string> StreamNames() {
  std::vector<std::string> names;
  if (DIR* d = opendir(kDir)) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (absl::EndsWith(name, ".in")) names.push_back(name.substr(0, name.size() - 3));
    }
    closedir(d);
  }
  return names;
}

// Reports the first differing line, which is far more readable than a
// whole-file EXPECT_EQ.
void ExpectSameText(const std::string& name, const std::string& want,
                    const std::string& got) {
  if (want == got) return;
  size_t line = 1, pos = 0;
  while (pos < want.size() && pos < got.size() && want[pos] == got[pos]) {
    if (want[pos] == '\n') ++line;
    ++pos;
  }
  auto line_at = [](const std::string& s, size_t p) {
    size_t b = s.rfind('\n', p == 0 ? 0 : p - 1);
    b = b == std::string::npos ? 0 : b + 1;
    return s.substr(b, s.find('\n', b) - b);
  };
  ADD_FAILURE() << name << ".screen differs at line " << line << "\n  want: "
                << line_at(want, pos) << "\n  got:  " << line_at(got, pos);
}

TEST(GoldenTest, EveryRecordedStreamMatchesItsScreen) {
  const std::vector<std::string> names = StreamNames();
  ASSERT_GE(names.size(), 10u) << "testdata/vt is missing streams";
  for (const std::string& name : names) {
    const std::string base = std::string(kDir) + "/" + name;
    const std::string want = ReadFile(base + ".screen");
    ASSERT_FALSE(want.empty()) << base << ".screen is missing";
    ExpectSameText(name, want, GoldenScreens(ReadFile(base + ".in")));
  }
}

}  // namespace
}  // namespace moshx::term
