// Regenerates the golden files testdata/vt/NAME.screen from NAME.in.
//
//   bazel run //term:vt_golden                 (all of testdata/vt/*.in)
//   bazel run //term:vt_golden -- DIR_OR_FILE.in...
//
// Relative paths are taken from the workspace root under `bazel run`.
// Review the changes with `git diff testdata/vt` before committing them.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "term/golden.h"

namespace {

std::vector<std::string> InputsIn(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (absl::EndsWith(name, ".in")) files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  return files;
}

bool Regenerate(const std::string& in_path) {
  std::ifstream in(in_path, std::ios::binary);
  if (!in) return false;
  std::string stream((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
  const std::string out_path =
      in_path.substr(0, in_path.size() - 3) + ".screen";
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << moshx::term::GoldenScreens(stream);
  std::printf("%s\n", out_path.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string root = workspace ? std::string(workspace) + "/" : "";
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) args.push_back("testdata/vt");
  std::vector<std::string> inputs;
  for (std::string arg : args) {
    if (!arg.empty() && arg[0] != '/') arg = root + arg;
    struct stat st;
    if (stat(arg.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      for (const std::string& f : InputsIn(arg)) inputs.push_back(f);
    } else {
      inputs.push_back(arg);
    }
  }
  bool ok = !inputs.empty();
  for (const std::string& in : inputs) {
    if (!absl::EndsWith(in, ".in") || !Regenerate(in)) {
      std::fprintf(stderr, "cannot regenerate from %s\n", in.c_str());
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
