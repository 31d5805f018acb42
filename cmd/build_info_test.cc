#include "cmd/build_info.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(BuildInfoTest, BuildIdIsTheLinkerNoteAsHex) {
  std::string id = BuildId();
  ASSERT_NE(id, "unknown") << "the test binary should carry a GNU build id";
  EXPECT_EQ(id.size(), 40u);  // sha1, as requested by the build's linkopts
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(BuildInfoTest, BuildIdIsStableWithinAProcess) { EXPECT_EQ(BuildId(), BuildId()); }

TEST(BuildInfoTest, VersionLineNamesVersionShortBuildIdAndLibvterm) {
  EXPECT_EQ(VersionLine(), std::string("moshx ") + kVersion + " (build " +
                               BuildId().substr(0, 12) + ") libvterm 0.3.3");
}

}  // namespace
}  // namespace moshx::cmd
