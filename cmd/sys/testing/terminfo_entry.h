// Test helper: writes a compiled terminfo entry (legacy 16-bit numbers or the
// extended 32-bit format) with `numbers` numeric capabilities, `colors`
// (index 13) set, at <dir>/<sub>/<name>, creating the directories.
#ifndef MOSHX_CMD_SYS_TESTING_TERMINFO_ENTRY_H_
#define MOSHX_CMD_SYS_TESTING_TERMINFO_ENTRY_H_

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace moshx::sys::testing {

inline void WriteTerminfoEntry(const std::string& dir, const std::string& sub,
                               const std::string& name, bool wide, int numbers,
                               int64_t colors) {
  std::string names = name + "|test entry";
  names.push_back('\0');
  const int bools = 3;  // odd total with the names: exercises the padding byte
  auto put16 = [](std::string* s, int v) {
    s->push_back(static_cast<char>(v & 0xff));
    s->push_back(static_cast<char>((v >> 8) & 0xff));
  };
  std::string data;
  for (int v : {wide ? 01036 : 0432, static_cast<int>(names.size()), bools, numbers, 0, 0}) {
    put16(&data, v);
  }
  data += names + std::string(bools, '\1');
  if (data.size() % 2) data.push_back('\0');
  for (int i = 0; i < numbers; ++i) {
    int64_t v = i == 13 ? colors : 80;
    for (int k = 0; k < (wide ? 4 : 2); ++k) {
      data.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
    }
  }
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/" + sub).c_str(), 0755);
  std::ofstream(dir + "/" + sub + "/" + name, std::ios::binary) << data;
}

}  // namespace moshx::sys::testing

#endif  // MOSHX_CMD_SYS_TESTING_TERMINFO_ENTRY_H_
