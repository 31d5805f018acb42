#include "cmd/sys/terminfo.h"

#include <sys/stat.h>

#include <fstream>

#include "cmd/sys/testing/terminfo_entry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::sys {
namespace {

using ::testing::ElementsAre;
using testing::WriteTerminfoEntry;

std::string TestDir(const std::string& name) { return ::testing::TempDir() + name; }

TEST(TerminfoTest, ReadsColorsFromCompiledEntries) {
  const std::string dir = TestDir("terminfo");
  WriteTerminfoEntry(dir, "x", "xterm-256color", false, 15, 256);
  WriteTerminfoEntry(dir, "78", "xterm-direct", true, 15, 0x1000000);  // hex-letter layout
  WriteTerminfoEntry(dir, "d", "dumb", false, 2, 0);                   // no colors capability
  WriteTerminfoEntry(dir, "v", "vt-absent", false, 15, -1);
  EXPECT_EQ(*TerminfoColors("xterm-256color", {dir}), 256);
  EXPECT_EQ(*TerminfoColors("xterm-direct", {"/nonexistent", dir}), 0x1000000);
  EXPECT_EQ(*TerminfoColors("dumb", {dir}), -1);
  EXPECT_EQ(*TerminfoColors("vt-absent", {dir}), -1);
  EXPECT_FALSE(TerminfoColors("nosuch", {dir}).ok());
  EXPECT_FALSE(TerminfoColors("../x/xterm-256color", {dir}).ok());
}

TEST(TerminfoTest, GarbageIsNotAnEntry) {
  const std::string dir = TestDir("garbage");
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/g").c_str(), 0755);
  std::ofstream(dir + "/g/garbage") << "this is not terminfo";
  EXPECT_FALSE(TerminfoColors("garbage", {dir}).ok());
}

TEST(TerminfoTest, DirectoriesInNcursesOrder) {
  EXPECT_THAT(TerminfoDirectories(
                  {{"TERMINFO", "/t"}, {"HOME", "/h"}, {"TERMINFO_DIRS", "/a::/b"}}),
              ElementsAre("/t", "/h/.terminfo", "/a", "/b", "/etc/terminfo", "/lib/terminfo",
                          "/usr/share/terminfo"));
  EXPECT_THAT(TerminfoDirectories({}),
              ElementsAre("/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"));
}

}  // namespace
}  // namespace moshx::sys
