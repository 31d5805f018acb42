#include "cmd/flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ParsedCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "moshx");
  return ParseCommandLine(args);
}

int CountLines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(FlagsTest, HelpPrintsUsageAndExitsZero) {
  for (const char* flag : {"--help", "-h"}) {
    ParsedCommandLine r = Parse({flag});
    EXPECT_EQ(r.action, ParsedCommandLine::Action::kExit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("Usage: moshx"));
    EXPECT_THAT(r.out, HasSubstr("--version"));
    EXPECT_EQ(r.err, "");
  }
}

TEST(FlagsTest, VersionPrintsVersionAndBuildId) {
  ParsedCommandLine r = Parse({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("moshx 0.1.0 (build "));
  EXPECT_THAT(r.out, EndsWith(")\n"));
  EXPECT_EQ(CountLines(r.out), 1);
}

TEST(FlagsTest, UnknownCommandIsOneLineErrorWithHintAndStatusTwo) {
  ParsedCommandLine r = Parse({"frobnicate"});
  EXPECT_EQ(r.action, ParsedCommandLine::Action::kExit);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "moshx: unknown command 'frobnicate'; run 'moshx --help' for usage\n");
  EXPECT_EQ(r.out, "");
}

TEST(FlagsTest, UnknownOptionIsOneLineErrorWithHintAndStatusTwo) {
  for (const char* flag : {"--bogus", "-x", "--bogus=1"}) {
    ParsedCommandLine r = Parse({flag});
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_THAT(r.err, StartsWith("moshx: unknown option '-")) << flag;
    EXPECT_THAT(r.err, EndsWith("run 'moshx --help' for usage\n")) << flag;
    EXPECT_EQ(CountLines(r.err), 1) << flag;
  }
}

TEST(FlagsTest, VersionFlagWinsWhereverItStands) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--version", "frobnicate"}, {"frobnicate", "--version"}}) {
    ParsedCommandLine r = Parse(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith("moshx 0.1.0"));
    EXPECT_EQ(r.err, "");
  }
}

TEST(FlagsTest, NoArgumentsShowsUsageOnStderrAndStatusTwo) {
  ParsedCommandLine r = Parse({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Usage: moshx"));
  EXPECT_THAT(r.err, HasSubstr("no command given"));
}

}  // namespace
}  // namespace moshx::cmd
