#include "cmd/server/locale.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kHost = {"C", "C.utf8", "POSIX", "en_US.utf8", "de_DE"};

TEST(LocaleTest, KeepsAvailableUtf8LocaleWithoutWarning) {
  LocaleChoice c = ChooseLocale({{"LANG", "en_US.UTF-8"}, {"LC_TIME", "de_DE"}}, kHost);
  EXPECT_EQ(c.warning, "");
  EXPECT_EQ(c.environment["LANG"], "en_US.UTF-8");
  EXPECT_EQ(c.environment["LC_TIME"], "de_DE");
  EXPECT_EQ(c.environment["LC_ALL"], "");
}

TEST(LocaleTest, CodesetSpellingsMatch) {
  EXPECT_EQ(ChooseLocale({{"LC_ALL", "en_US.utf8"}}, kHost).warning, "");
  EXPECT_EQ(ChooseLocale({{"LANG", "en_US.UTF8"}}, kHost).warning, "");
  EXPECT_EQ(ChooseLocale({{"LANG", "C.UTF-8"}}, {}).warning, "");
}

TEST(LocaleTest, MissingUtf8LocaleFallsBackToCUtf8WithOneWarning) {
  LocaleChoice c = ChooseLocale({{"LANG", "fr_FR.UTF-8"}}, kHost);
  EXPECT_EQ(c.environment["LC_CTYPE"], "C.UTF-8");
  EXPECT_EQ(c.environment["LANG"], "fr_FR.UTF-8");
  EXPECT_THAT(c.warning, HasSubstr("LANG=fr_FR.UTF-8 is not available"));
  EXPECT_EQ(std::count(c.warning.begin(), c.warning.end(), '\n'), 0);
}

TEST(LocaleTest, NonUtf8LocaleFallsBack) {
  LocaleChoice c = ChooseLocale({{"LANG", "C"}}, kHost);
  EXPECT_EQ(c.environment["LC_CTYPE"], "C.UTF-8");
  EXPECT_THAT(c.warning, HasSubstr("LANG=C is not UTF-8"));
}

TEST(LocaleTest, NoLocaleAtAllFallsBack) {
  LocaleChoice c = ChooseLocale({}, kHost);
  EXPECT_EQ(c.environment["LC_CTYPE"], "C.UTF-8");
  EXPECT_THAT(c.warning, HasSubstr("no locale requested"));
}

TEST(LocaleTest, LcAllOverridesAndIsReplacedWhenUnusable) {
  LocaleChoice c = ChooseLocale({{"LC_ALL", "ja_JP.UTF-8"}, {"LANG", "en_US.UTF-8"}}, kHost);
  EXPECT_EQ(c.environment["LC_ALL"], "");  // LC_ALL would override LC_CTYPE
  EXPECT_EQ(c.environment["LC_CTYPE"], "C.UTF-8");
  EXPECT_THAT(c.warning, HasSubstr("LC_ALL=ja_JP.UTF-8"));
}

TEST(LocaleTest, HostListIncludesCUtf8OnThisMachine) {
  std::vector<std::string> names = AvailableLocales();
  EXPECT_TRUE(std::find(names.begin(), names.end(), "C.utf8") != names.end() ||
              std::find(names.begin(), names.end(), "C.UTF-8") != names.end());
}

}  // namespace
}  // namespace moshx::cmd
