#include "cmd/env.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(EnvTest, TimeoutsAreWholeSecondsWithMoshsWarnings) {
  std::vector<std::string> warnings;
  const Environment env = {{"A", "60"}, {"B", "soon"}, {"C", "-5"}, {"D", ""}};
  EXPECT_EQ(TimeoutFromEnvironment(env, "A", &warnings), absl::Seconds(60));
  EXPECT_EQ(TimeoutFromEnvironment(env, "D", &warnings), absl::ZeroDuration());
  EXPECT_EQ(TimeoutFromEnvironment(env, "unset", &warnings), absl::ZeroDuration());
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(TimeoutFromEnvironment(env, "B", &warnings), absl::ZeroDuration());
  EXPECT_EQ(TimeoutFromEnvironment(env, "C", &warnings), absl::ZeroDuration());
  EXPECT_THAT(warnings, ElementsAre("B not a valid integer, ignoring", "C is negative, ignoring"));
}

TEST(EnvTest, PredictionDisplayNames) {
  EXPECT_EQ(PredictionDisplayNamed("adaptive"), core::PredictionDisplay::kAdaptive);
  EXPECT_EQ(PredictionDisplayNamed("always"), core::PredictionDisplay::kAlways);
  EXPECT_EQ(PredictionDisplayNamed("never"), core::PredictionDisplay::kNever);
  EXPECT_EQ(PredictionDisplayNamed("experimental"), core::PredictionDisplay::kExperimental);
  EXPECT_EQ(PredictionDisplayNamed("maybe"), std::nullopt);
}

TEST(EnvTest, TerminalVariables) {
  TerminalOptions t;
  SetTerminalEnvironment({}, &t);
  EXPECT_EQ(t.escape_key, std::nullopt);
  EXPECT_TRUE(t.alternate_screen);
  SetTerminalEnvironment({{"MOSH_ESCAPE_KEY", ""}, {"MOSH_NO_TERM_INIT", ""}}, &t);
  EXPECT_EQ(t.escape_key, "");  // set but empty: the escape key is disabled
  EXPECT_FALSE(t.alternate_screen);
}

TEST(EnvTest, ServerVariables) {
  ServeOptions o;
  SetServeEnvironment({{"LANG", "C.UTF-8"}, {"LC_ALL", ""}, {"HOME", "/h"}, {"SHELL", "/s"},
                       {"PATH", "/bin"}},
                      &o);
  EXPECT_THAT(o.locale_environment, ElementsAre(Pair("LANG", "C.UTF-8"), Pair("LC_ALL", "")));
  EXPECT_EQ(o.home, "/h");
  EXPECT_EQ(o.shell, "/s");
}

TEST(EnvTest, BootstrapDataDirFollowsXdg) {
  EXPECT_EQ(BootstrapDataDir({{"XDG_DATA_HOME", "/x"}, {"HOME", "/h"}}), "/x/moshx");
  EXPECT_EQ(BootstrapDataDir({{"XDG_DATA_HOME", "rel"}, {"HOME", "/h"}}),
            "/h/.local/share/moshx");
  EXPECT_EQ(BootstrapDataDir({}), "");
}

TEST(EnvTest, ClientVariablesForTheServer) {
  ConnectOptions o;
  SetConnectEnvironment({{"LC_ALL", ""}, {"LANG", "de_DE.UTF-8"}, {"LC_TIME", "C"},
                         {"TERM", "xterm"}, {"TERMINFO", "/t"}},
                        &o);
  // Non-empty ones only, in LocaleVariableNames() order.
  EXPECT_THAT(o.locale, ElementsAre(Pair("LANG", "de_DE.UTF-8"), Pair("LC_TIME", "C")));
  EXPECT_EQ(o.term, "xterm");
  EXPECT_EQ(o.terminfo_dirs.front(), "/t");
}

}  // namespace
}  // namespace moshx::cmd
