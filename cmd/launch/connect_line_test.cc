#include "cmd/launch/connect_line.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "MLjmtTgi5d9MgiQeQ+oYlg";

TEST(ConnectLineTest, FormatsMoshLineExactlyAsMoshServer) {
  ConnectInfo info;
  info.port = 47011;
  info.key = *net::SessionKey::FromBase64(kKey);
  EXPECT_EQ(FormatConnectLine(info), "MOSH CONNECT 47011 MLjmtTgi5d9MgiQeQ+oYlg");
}

TEST(ConnectLineTest, MoshxLineRoundTrips) {
  ConnectInfo info;
  info.mode = net::WireMode::kMoshx;
  info.port = 60001;
  info.key = *net::SessionKey::FromBase64(kKey);
  info.connection_id = 0x0123456789abcdefULL;
  std::string line = FormatConnectLine(info);
  EXPECT_EQ(line, "MOSHX CONNECT 60001 MLjmtTgi5d9MgiQeQ+oYlg 0123456789abcdef");
  auto parsed = ParseConnectLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->mode, net::WireMode::kMoshx);
  EXPECT_EQ(parsed->port, 60001);
  EXPECT_TRUE(parsed->key == info.key);
  EXPECT_EQ(parsed->connection_id, 0x0123456789abcdefULL);
}

TEST(ConnectLineTest, ParsesMoshLineWithTrailingCarriageReturns) {
  auto parsed = ParseConnectLine("MOSH CONNECT 47011 MLjmtTgi5d9MgiQeQ+oYlg\r\r");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->mode, net::WireMode::kMosh);
  EXPECT_EQ(parsed->port, 47011);
}

TEST(ConnectLineTest, OtherLinesAreNotFound) {
  EXPECT_TRUE(absl::IsNotFound(ParseConnectLine("Welcome to host").status()));
  EXPECT_TRUE(absl::IsNotFound(ParseConnectLine("").status()));
}

TEST(ConnectLineTest, RejectsMalformedLinesWithoutEchoingTheKey) {
  for (const char* line : {"MOSH CONNECT 0 MLjmtTgi5d9MgiQeQ+oYlg",
                           "MOSH CONNECT 65536 MLjmtTgi5d9MgiQeQ+oYlg",
                           "MOSH CONNECT 12a MLjmtTgi5d9MgiQeQ+oYlg",
                           "MOSH CONNECT 47011 MLjmtTgi5d9MgiQeQ+oYlh",
                           "MOSH CONNECT 47011",
                           "MOSH CONNECT 47011 MLjmtTgi5d9MgiQeQ+oYlg extra",
                           "MOSHX CONNECT 47011 MLjmtTgi5d9MgiQeQ+oYlg 0123",
                           "MOSHX CONNECT 47011 MLjmtTgi5d9MgiQeQ+oYlg 0123456789ABCDEF"}) {
    auto parsed = ParseConnectLine(line);
    ASSERT_FALSE(parsed.ok()) << line;
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << line;
    EXPECT_THAT(std::string(parsed.status().message()), Not(HasSubstr("MLjmtTgi5d9M"))) << line;
  }
}

TEST(ConnectLineTest, ScanFindsLineAmongSshNoise) {
  std::string output =
      "Warning: Permanently added 'localhost' (ED25519) to the list of known hosts.\r\n"
      "\r\r\n\r\n"
      "MOSH CONNECT 60001 MLjmtTgi5d9MgiQeQ+oYlg\r\n"
      "\r\n"
      "mosh-server (mosh 1.4.0) [build mosh 1.4.0]\r\n"
      "[mosh-server detached, pid = 27366]\r\n";
  StartupOutput scan = ScanStartupOutput(output);
  ASSERT_TRUE(scan.connect.ok()) << scan.connect.status();
  EXPECT_EQ(scan.connect->port, 60001);
  EXPECT_THAT(scan.other_lines,
              ElementsAre(HasSubstr("Permanently added"), HasSubstr("mosh-server (mosh 1.4.0)"),
                          HasSubstr("detached")));
}

TEST(ConnectLineTest, ScanReportsMissingLineAndKeepsOutputForTheUser) {
  StartupOutput scan = ScanStartupOutput("bash: line 1: moshx: command not found\n");
  EXPECT_TRUE(absl::IsNotFound(scan.connect.status()));
  EXPECT_THAT(scan.other_lines, ElementsAre("bash: line 1: moshx: command not found"));
}

TEST(ConnectLineTest, ScanReportsMalformedLineUnlessAValidOneFollows) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      ScanStartupOutput("MOSH CONNECT x MLjmtTgi5d9MgiQeQ+oYlg\n").connect.status()));
  EXPECT_TRUE(ScanStartupOutput("MOSH CONNECT x MLjmtTgi5d9MgiQeQ+oYlg\n"
                                "MOSH CONNECT 5 MLjmtTgi5d9MgiQeQ+oYlg\n")
                  .connect.ok());
}

}  // namespace
}  // namespace moshx::cmd
