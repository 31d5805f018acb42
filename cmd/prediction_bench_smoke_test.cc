// Runs //cmd:prediction_bench briefly (one trace, one RTT): it must exit 0
// and print a converged row for the trace.
#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace {

TEST(PredictionBenchSmokeTest, PrintsAConvergedRow) {
  FILE* out = popen("cmd/prediction_bench --traces=password --rtts=200 2>&1", "r");
  ASSERT_NE(out, nullptr);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), out)) > 0) text.append(buf, n);
  EXPECT_EQ(pclose(out), 0) << text;
  std::printf("%s", text.c_str());
  const size_t row = text.find("\npassword ");
  ASSERT_NE(row, std::string::npos) << text;
  const std::string line = text.substr(row + 1, text.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find(" yes"), std::string::npos) << line;
}

}  // namespace
