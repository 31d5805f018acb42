#include <cstdio>
#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "openssl/rand.h"
#include "vterm.h"
#include "zstd.h"
#include "zlib.h"
int main(int argc, char** argv) {
  CLI::App app("moshx");
  CLI11_PARSE(app, argc, argv);
  unsigned char b[4]; RAND_bytes(b, 4);
  VTerm* vt = vterm_new(24, 80); vterm_free(vt);
  std::puts(absl::StrCat("zstd ", ZSTD_versionString(), " zlib ", zlibVersion()).c_str());
}
// x
// y
