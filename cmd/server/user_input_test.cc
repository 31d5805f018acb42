#include "cmd/server/user_input.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

std::string Translate(UserInputTranslator* t, const std::string& in, bool app) {
  std::string out;
  for (char c : in) t->Translate(c, app, &out);
  return out;
}

TEST(UserInputTest, RewritesSs3ArrowsWhenApplicationCursorKeysAreOff) {
  UserInputTranslator t;
  EXPECT_EQ(Translate(&t, "\x1bOA\x1bOB\x1bOC\x1bOD", false), "\x1b[A\x1b[B\x1b[C\x1b[D");
}

TEST(UserInputTest, KeepsSs3ArrowsWhenTheApplicationAskedForThem) {
  UserInputTranslator t;
  EXPECT_EQ(Translate(&t, "\x1bOA", true), "\x1bOA");
}

TEST(UserInputTest, HoldsBackTheOAcrossChunks) {
  UserInputTranslator t;
  EXPECT_EQ(Translate(&t, "\x1bO", false), "\x1b");
  EXPECT_EQ(Translate(&t, "C", false), "[C");
}

TEST(UserInputTest, NeverHoldsBackInApplicationCursorKeyMode) {
  UserInputTranslator t;
  EXPECT_EQ(Translate(&t, "\x1bO", true), "\x1bO");  // vim: ESC then O opens a line at once
}

TEST(UserInputTest, OtherSequencesPassThrough) {
  UserInputTranslator t;
  EXPECT_EQ(Translate(&t, "abc\x1bOP\x1b[5~\x1bOx", false), "abc\x1bOP\x1b[5~\x1bOx");
  EXPECT_EQ(Translate(&t, "\x1b\x1bOA", false), "\x1b\x1b[A");
  EXPECT_EQ(Translate(&t, "O", false), "O");
}

}  // namespace
}  // namespace moshx::cmd
