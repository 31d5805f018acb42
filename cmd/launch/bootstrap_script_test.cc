#include "cmd/launch/bootstrap_script.h"

#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::HasSubstr;

const std::string kHash(64, 'a');

std::vector<std::string> Probe(std::vector<std::string> middle) {
  middle.insert(middle.begin(), "moshx-bootstrap 1");
  middle.push_back("end");
  return middle;
}

TEST(BootstrapScriptTest, IsOneLineWithoutBackslashesOrSingleQuotes) {
  const std::string& s = BootstrapScript();
  EXPECT_EQ(s.find('\n'), std::string::npos);
  EXPECT_EQ(s.find('\\'), std::string::npos);
  EXPECT_EQ(s.find('\''), std::string::npos);
  EXPECT_EQ(s.find(" #"), std::string::npos);  // a comment would swallow the rest
}

TEST(BootstrapScriptTest, RemoteCommandQuotesEveryWord) {
  std::string c = BootstrapRemoteCommand("~/my bin/moshx", "moshx");
  EXPECT_THAT(c, testing::StartsWith("'sh' '-c' '"));
  EXPECT_THAT(c, HasSubstr("'moshx-bootstrap' '~/my bin/moshx' 'moshx' 'Linux' 'x86_64 aarch64'"));
}

TEST(BootstrapScriptTest, BuildFilesAreNamedAfterUnameM) {
  EXPECT_EQ(BuildFileName("aarch64"), "moshx-linux-aarch64");
  EXPECT_EQ(BuildFileName(kBootstrapArch), std::string("moshx-linux-") + kBootstrapArch);
}

// The script is valid sh: dash and bash parse it (-n) without complaint.
TEST(BootstrapScriptTest, ParsesUnderDashAndBash) {
  for (const char* shell : {"/bin/dash", "/bin/bash"}) {
    std::string cmd = std::string(shell) + " -n -c '" + BootstrapScript() + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[512];
    std::string out;
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    EXPECT_EQ(pclose(p), 0) << shell << ": " << out;
  }
}

TEST(BootstrapScriptTest, ParsesAFullProbe) {
  auto p = ParseProbe(Probe({"os Linux", "arch x86_64", "tool sha256sum",
                             "path /home/u/.local/bin/moshx", "dest file " + kHash + " -",
                             "command /usr/my bin/moshx file - 0123456789ab"}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->os, "Linux");
  EXPECT_EQ(p->arch, "x86_64");
  EXPECT_EQ(p->hash_tool, "sha256sum");
  EXPECT_EQ(p->dest.path, "/home/u/.local/bin/moshx");
  EXPECT_EQ(p->dest.state, RemoteFile::State::kFile);
  EXPECT_EQ(p->dest.sha256, kHash);
  EXPECT_EQ(p->dest.build_id, "");
  EXPECT_EQ(p->command.path, "/usr/my bin/moshx");
  EXPECT_EQ(p->command.sha256, "");
  EXPECT_EQ(p->command.build_id, "0123456789ab");
}

TEST(BootstrapScriptTest, MissingAndOtherFiles) {
  auto p = ParseProbe(Probe({"path /h/m", "dest missing", "command /x/moshx other"}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->dest.state, RemoteFile::State::kMissing);
  EXPECT_EQ(p->command.state, RemoteFile::State::kOther);
  EXPECT_EQ(p->command.path, "/x/moshx");
  p = ParseProbe(Probe({"path /h/m", "dest other", "command -"}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->dest.state, RemoteFile::State::kOther);
  EXPECT_EQ(p->command.state, RemoteFile::State::kMissing);
  EXPECT_EQ(p->command.path, "");
}

TEST(BootstrapScriptTest, RejectsBadProbes) {
  EXPECT_EQ(ParseProbe({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProbe({"Welcome to host!", "end"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProbe({"moshx-bootstrap 2", "end"}).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(ParseProbe({"moshx-bootstrap 1", "path /h/m"}).ok());  // no end
  EXPECT_FALSE(ParseProbe(Probe({"dest missing"})).ok());           // no path
  EXPECT_FALSE(ParseProbe(Probe({"path /h/m", "dest file x"})).ok());
  EXPECT_FALSE(ParseProbe(Probe({"path /h/m", "command /x/moshx weird"})).ok());
}

TEST(BootstrapScriptTest, IgnoresMalformedHashesAndUnknownKeys) {
  auto p = ParseProbe(Probe({"path /h/m", "future stuff", "dest file zz12 nothex"}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->dest.state, RemoteFile::State::kFile);
  EXPECT_EQ(p->dest.sha256, "");
  EXPECT_EQ(p->dest.build_id, "");
}

TEST(BootstrapScriptTest, EveryArchitectureMoshxIsBuiltForIsAccepted) {
  RemoteProbe p;
  p.os = "Linux";
  for (const char* arch : {"x86_64", "aarch64"}) {
    p.arch = arch;
    EXPECT_TRUE(CheckPlatform(p).ok()) << arch;
  }
}

TEST(BootstrapScriptTest, PlatformMismatchNamesBothPlatforms) {
  RemoteProbe p;
  p.os = "Linux";
  p.arch = "armv7l";
  absl::Status s = CheckPlatform(p);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("Linux armv7l"));
  EXPECT_THAT(s.message(), HasSubstr("built for Linux x86_64 and aarch64 only"));
  p.os = "Darwin";
  p.arch = "x86_64";
  EXPECT_THAT(CheckPlatform(p).message(), HasSubstr("Darwin x86_64"));
  p.os = "";
  p.arch = "";
  EXPECT_THAT(CheckPlatform(p).message(), HasSubstr("unknown OS"));
}

TEST(BootstrapScriptTest, SameBuildByHashElseByBuildId) {
  const std::string id = "0123456789abcdef0123456789abcdef01234567";
  RemoteFile f;
  EXPECT_FALSE(IsSameBuild(f, kHash, id));  // missing
  f.state = RemoteFile::State::kFile;
  EXPECT_FALSE(IsSameBuild(f, kHash, id));  // nothing known
  f.sha256 = kHash;
  EXPECT_TRUE(IsSameBuild(f, kHash, id));
  f.build_id = "0123456789ab";
  EXPECT_FALSE(IsSameBuild(f, std::string(64, 'b'), id));  // a hash wins over the id
  f.sha256 = "";
  EXPECT_TRUE(IsSameBuild(f, std::string(64, 'b'), id));
  EXPECT_FALSE(IsSameBuild(f, kHash, "fedcba9876543210"));
  EXPECT_FALSE(IsSameBuild(f, kHash, ""));
}

TEST(BootstrapScriptTest, UploadCommandAndReplies) {
  EXPECT_EQ(UploadCommand(12, kHash, "0123456789abcdef"),
            "upload 12 " + kHash + " 0123456789ab\n");
  EXPECT_EQ(UploadCommand(1, "h", ""), "upload 1 h -\n");
  auto ok = ParseUploadReply("installed file " + kHash + " -");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->sha256, kHash);
  EXPECT_EQ(ParseUploadReply("error unwritable mkdir: Read-only file system").status(),
            absl::PermissionDeniedError("mkdir: Read-only file system"));
  EXPECT_EQ(ParseUploadReply("error truncated received 3 of 9 bytes").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseUploadReply("error corrupt sha256 x").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseUploadReply("error write disk full").status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(ParseUploadReply("garbage").status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace moshx::cmd
