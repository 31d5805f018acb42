#include "cmd/build_info.h"

#include <elf.h>
#include <link.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"
#include "term/emulator.h"

namespace moshx::cmd {
namespace {

// Scans the PT_NOTE segments of the main executable (the first object
// dl_iterate_phdr reports) for NT_GNU_BUILD_ID.
int FindBuildId(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((note->n_namesz + 3) & ~3u);
      if (desc + note->n_descsz > end) break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        *out = absl::BytesToHexString(absl::string_view(desc, note->n_descsz));
        return 1;
      }
      p = desc + ((note->n_descsz + 3) & ~3u);
    }
  }
  return 1;  // Only the main executable is of interest.
}

}  // namespace

std::string BuildId() {
  static const std::string* const id = [] {
    auto* s = new std::string;
    dl_iterate_phdr(FindBuildId, s);
    if (s->empty()) *s = "unknown";
    return s;
  }();
  return *id;
}

std::string VersionLine() {
  return absl::StrCat("moshx ", kVersion, " (build ", BuildId().substr(0, 12),
                      ") libvterm ", term::Emulator::LibvtermVersion());
}

}  // namespace moshx::cmd
