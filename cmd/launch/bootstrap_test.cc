// Bootstrap() end to end against testdata/bootstrap/fake_ssh.sh, which runs
// the remote script locally (a temporary $HOME, a chosen PATH), uploading the
// real static moshx binary. The real-sshd tests are in
// cmd/e2e/bootstrap_e2e_test.sh.
#include "cmd/launch/bootstrap.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Action = BootstrapResult::Action;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& text, fs::perms perms = fs::perms(0755)) {
  std::ofstream(p, std::ios::binary) << text;
  fs::permissions(p, perms);
}

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::path(::testing::TempDir()) / info->name();
    fs::remove_all(root_);
    home_ = root_ / "home";
    fs::create_directories(home_);
    fake_ssh_ = fs::absolute("testdata/bootstrap/fake_ssh.sh");
    setenv("FAKE_SSH_HOME", home_.c_str(), 1);
    unsetenv("FAKE_SSH_PATH");
    options_.destination = "user@host";
    options_.ssh = fake_ssh_.string();
    options_.binary_path = fs::absolute("cmd/moshx").string();
    binary_ = Slurp(options_.binary_path);
    ASSERT_GT(binary_.size(), 1000u);
  }

  // A PATH with only the POSIX tools the script may use (no hashing tool
  // unless `hash_tool` names one), optionally with a fake uname reporting `arch`.
  void UseMinimalPath(const std::string& arch = "", const std::string& hash_tool = "") {
    fs::path bin = root_ / "minimal-bin";
    fs::remove_all(bin);
    fs::create_directories(bin);
    for (const char* tool : {"sh", "mkdir", "cat", "wc", "chmod", "mv", "rm", "uname"}) {
      fs::create_symlink(fs::path("/bin") / tool, bin / tool);
    }
    if (!hash_tool.empty()) fs::create_symlink(fs::path("/usr/bin") / hash_tool, bin / hash_tool);
    if (!arch.empty()) {
      fs::remove(bin / "uname");
      WriteFile(bin / "uname",
                "#!/bin/sh\ncase $1 in -s) echo Linux;; -m) echo " + arch + ";; esac\n");
    }
    setenv("FAKE_SSH_PATH", bin.c_str(), 1);
  }

  fs::path Dest() const { return home_ / ".local/bin/moshx"; }

  // No temporary upload files left beside the destination.
  void ExpectNoLeftovers() {
    if (!fs::exists(Dest().parent_path())) return;
    for (const auto& e : fs::directory_iterator(Dest().parent_path())) {
      EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr(".moshx-bootstrap")));
    }
  }

  fs::path root_, home_, fake_ssh_;
  BootstrapOptions options_;
  std::string binary_;
};

TEST_F(BootstrapTest, InstallsThenFindsItThenForceUploadsAgain) {
  auto r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kInstalled);
  EXPECT_EQ(r->bytes_uploaded, binary_.size());
  EXPECT_EQ(r->path, Dest().string());
  EXPECT_EQ(r->server, Dest().string());
  EXPECT_EQ(r->probe.hash_tool, "sha256sum");
  EXPECT_EQ(r->build_id.size(), 40u);
  EXPECT_EQ(Slurp(Dest()), binary_);
  EXPECT_EQ(fs::status(Dest()).permissions() & fs::perms::all, fs::perms(0755));
  ExpectNoLeftovers();

  r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kUnchanged);
  EXPECT_EQ(r->bytes_uploaded, 0u);
  EXPECT_EQ(r->server, Dest().string());

  options_.force = true;
  r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kReplaced);
  EXPECT_EQ(r->bytes_uploaded, binary_.size());
}

TEST_F(BootstrapTest, ReplacesAnotherFileAndHonoursDest) {
  options_.dest_path = "tools dir/moshx";  // relative to $HOME, with a space
  fs::create_directories(home_ / "tools dir");
  WriteFile(home_ / "tools dir/moshx", "#!/bin/sh\necho old\n");
  auto r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kReplaced);
  EXPECT_EQ(r->path, (home_ / "tools dir/moshx").string());
  EXPECT_EQ(Slurp(home_ / "tools dir/moshx"), binary_);
}

TEST_F(BootstrapTest, WithoutAHashingToolComparesBuildIds) {
  UseMinimalPath();
  auto r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->probe.hash_tool, "none");
  EXPECT_EQ(r->action, Action::kInstalled);
  EXPECT_EQ(Slurp(Dest()), binary_);
  r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kUnchanged);
  // Another build (by its --version line) is replaced.
  WriteFile(Dest(), "#!/bin/sh\necho 'moshx 0.1.0 (build 000000000000)'\n");
  r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kReplaced);
  EXPECT_EQ(Slurp(Dest()), binary_);
}

TEST_F(BootstrapTest, UsesShasumOrOpensslWhenThatIsAllThereIs) {
  for (const char* tool : {"shasum", "openssl"}) {
    fs::remove_all(home_ / ".local");
    UseMinimalPath("", tool);
    auto r = Bootstrap(options_);
    ASSERT_TRUE(r.ok()) << tool << ": " << r.status();
    EXPECT_EQ(r->probe.hash_tool, tool);
    EXPECT_EQ(r->action, Action::kInstalled) << tool;
    EXPECT_EQ(Slurp(Dest()), binary_) << tool;
    r = Bootstrap(options_);
    ASSERT_TRUE(r.ok()) << tool << ": " << r.status();
    EXPECT_EQ(r->action, Action::kUnchanged) << tool;
    EXPECT_EQ(r->probe.dest.sha256, r->sha256) << tool;  // the remote tool's hash, parsed
  }
}

TEST_F(BootstrapTest, RefusesAnArchitectureMoshxIsNotBuiltForAndWritesNothing) {
  UseMinimalPath("armv7l");
  auto r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("Linux armv7l"));
  EXPECT_THAT(r.status().message(), HasSubstr("built for Linux x86_64 and aarch64 only"));
  EXPECT_FALSE(fs::exists(home_ / ".local"));
}

// This test runs the x86-64 build; the remote's fake uname says aarch64.
class OtherArchitectureTest : public BootstrapTest {
 protected:
  void SetUp() override {
    BootstrapTest::SetUp();
    ASSERT_STREQ(kBootstrapArch, "x86_64");
    UseMinimalPath("aarch64", "sha256sum");
    // This moshx runs from dist/ (through a symlink, as from ~/bin); builds
    // for other architectures sit beside it or in the data directory.
    fs::create_directories(root_ / "dist");
    fs::create_directories(root_ / "bin");
    fs::copy_file(options_.binary_path, root_ / "dist/moshx");
    fs::create_symlink(root_ / "dist/moshx", root_ / "bin/moshx");
    options_.binary_path = (root_ / "bin/moshx").string();
    options_.data_dir = (root_ / "data/moshx").string();
    aarch64_ = Slurp(fs::absolute("moshx_aarch64"));
    ASSERT_GT(aarch64_.size(), 1000u);
  }

  std::string aarch64_;
};

TEST_F(OtherArchitectureTest, WithoutItsBuildSaysWhereItLookedAndWritesNothing) {
  auto r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string beside = (root_ / "dist/moshx-linux-aarch64").string();
  const std::string data = (root_ / "data/moshx/moshx-linux-aarch64").string();
  const std::string message(r.status().message());
  EXPECT_THAT(message,
              HasSubstr("the remote runs Linux aarch64 and this moshx is the x86_64 build"));
  EXPECT_THAT(message, HasSubstr(beside + " (not there) and " + data + " (not there)"));
  EXPECT_THAT(message, HasSubstr("tools/release"));
  EXPECT_FALSE(fs::exists(home_ / ".local"));

  // A file of another architecture under that name is not uploaded either.
  WriteFile(beside, binary_);
  r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr(beside + " (not an aarch64 executable)"));
  WriteFile(beside, "#!/bin/sh\necho moshx\n");
  r = Bootstrap(options_);
  EXPECT_THAT(r.status().message(), HasSubstr(beside + " (not an ELF file)"));
  EXPECT_FALSE(fs::exists(home_ / ".local"));
}

TEST_F(OtherArchitectureTest, UploadsTheBuildFoundBesideThisBinary) {
  WriteFile(root_ / "dist/moshx-linux-aarch64", aarch64_);
  fs::create_directories(root_ / "data/moshx");  // found second: not used
  WriteFile(root_ / "data/moshx/moshx-linux-aarch64", "not this one");
  auto r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kInstalled);
  EXPECT_EQ(r->probe.arch, "aarch64");
  EXPECT_EQ(r->binary, (root_ / "dist/moshx-linux-aarch64").string());
  EXPECT_EQ(r->bytes_uploaded, aarch64_.size());
  EXPECT_EQ(Slurp(Dest()), aarch64_);
  EXPECT_EQ(r->probe.hash_tool, "sha256sum");  // so the remote checked the hash
  EXPECT_THAT(DescribeResult(options_, *r),
              HasSubstr("(the aarch64 build, " + r->binary + ") at " + Dest().string()));
  EXPECT_THAT(ResultJson(options_, *r), HasSubstr("\"binary\":\"" + r->binary + "\""));
  ExpectNoLeftovers();

  r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kUnchanged);
  EXPECT_EQ(r->bytes_uploaded, 0u);
}

TEST_F(OtherArchitectureTest, UploadsTheBuildFromTheDataDirectory) {
  fs::create_directories(root_ / "data/moshx");
  WriteFile(root_ / "data/moshx/moshx-linux-aarch64", aarch64_);
  auto r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kInstalled);
  EXPECT_EQ(r->binary, (root_ / "data/moshx/moshx-linux-aarch64").string());
  EXPECT_EQ(Slurp(Dest()), aarch64_);
}

TEST_F(OtherArchitectureTest, ConnectAutoWarnsAndFallsBackWithoutItsBuild) {
  ConnectOptions c;
  c.destination = options_.destination;
  c.ssh = options_.ssh;
  c.bootstrap_data_dir = options_.data_dir;
  // ServerAfterBootstrap uploads /proc/self/exe: this test binary's own
  // directory has no moshx-linux-aarch64, so the remote gets nothing.
  auto server = ServerAfterBootstrap(c);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(*server, "moshx");
  EXPECT_FALSE(fs::exists(home_ / ".local"));
}

TEST_F(BootstrapTest, UnwritableDestinationIsAClearError) {
  WriteFile(home_ / "blocker", "a file, not a directory");
  options_.dest_path = "~/blocker/bin/moshx";
  auto r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot write " + (home_ / "blocker/bin/moshx").string()));
  EXPECT_THAT(r.status().message(), HasSubstr("--dest"));
}

TEST_F(BootstrapTest, DestinationBeginningWithADashIsNeverAnSshOption) {
  const fs::path argv_file = root_ / "ssh-argv";
  setenv("FAKE_SSH_ARGV", argv_file.c_str(), 1);
  options_.destination = "-oProxyCommand=touch /tmp/moshx-pwned";
  auto r = Bootstrap(options_);
  unsetenv("FAKE_SSH_ARGV");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> argv;
  std::istringstream lines(Slurp(argv_file));
  for (std::string line; std::getline(lines, line);) argv.push_back(line);
  auto dash_dash = std::find(argv.begin(), argv.end(), "--");
  ASSERT_NE(dash_dash, argv.end());
  ASSERT_NE(dash_dash + 1, argv.end());
  EXPECT_EQ(dash_dash[1], options_.destination);  // after "--": a host name
}

// A tool in the minimal PATH: a shell script.
void AddTool(const fs::path& root, const std::string& name, const std::string& body) {
  fs::path tool = root / "minimal-bin" / name;
  fs::remove(tool);
  WriteFile(tool, "#!/bin/sh\n" + body + "\n");
}

TEST_F(BootstrapTest, UploadDirectoryNamesAreRandomAndPrivate) {
  UseMinimalPath("", "sha256sum");
  fs::create_symlink("/usr/bin/od", root_ / "minimal-bin/od");
  const fs::path log = root_ / "mkdir-log";
  // Records each directory made and its mode, then makes it.
  AddTool(root_, "mkdir", "echo \"$*\" >>" + log.string() + "; exec /bin/mkdir \"$@\"");
  options_.force = true;
  for (int i = 0; i < 2; ++i) {
    auto r = Bootstrap(options_);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::vector<std::string> made;
  std::istringstream lines(Slurp(log));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(".moshx-bootstrap.") != std::string::npos) made.push_back(line);
  }
  ASSERT_EQ(made.size(), 2u);
  const std::string prefix = "-m 700 " + (Dest().parent_path() / ".moshx-bootstrap.").string();
  for (const std::string& m : made) {
    ASSERT_THAT(m, testing::StartsWith(prefix));
    std::string suffix = m.substr(prefix.size());
    EXPECT_EQ(suffix.size(), 16u) << m;  // 64 bits in hex
    EXPECT_EQ(suffix.find_first_not_of("0123456789abcdef"), std::string::npos) << m;
  }
  EXPECT_NE(made[0], made[1]);
  ExpectNoLeftovers();
}

TEST_F(BootstrapTest, PlantedSymlinkAtTheUploadNameIsNotFollowed) {
  // The worst case: another user guessed the name (od made predictable here)
  // and planted a symlink to a directory of the victim's.
  UseMinimalPath("", "sha256sum");
  AddTool(root_, "od", "echo ' 0123456789abcdef'");
  const fs::path victim = root_ / "victim";
  fs::create_directories(victim);
  WriteFile(victim / "moshx", "precious\n");
  fs::create_directories(Dest().parent_path());
  const fs::path planted = Dest().parent_path() / ".moshx-bootstrap.0123456789abcdef";
  fs::create_directory_symlink(victim, planted);
  auto r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_EQ(Slurp(victim / "moshx"), "precious\n");  // neither written nor removed
  EXPECT_EQ(std::distance(fs::directory_iterator(victim), fs::directory_iterator()), 1);
  EXPECT_TRUE(fs::is_symlink(planted));
  EXPECT_FALSE(fs::exists(Dest()));
}

TEST_F(BootstrapTest, TruncatedUploadLeavesTheOldFile) {
  fs::create_directories(Dest().parent_path());
  WriteFile(Dest(), "old binary\n");
  // Only the first 300 kB of our output reach the remote shell.
  // (dd bs=1: head's output is buffered, so it would hold back the commands.)
  options_.ssh =
      "/bin/sh -c 'dd bs=1 count=300000 2>/dev/null | \"$0\" \"$@\"' " + fake_ssh_.string();
  auto r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("did not arrive intact"));
  EXPECT_THAT(r.status().message(), HasSubstr("bytes"));
  EXPECT_EQ(Slurp(Dest()), "old binary\n");
  ExpectNoLeftovers();
}

TEST_F(BootstrapTest, SameBuildOnPathIsUsedAndCheckRemoteChangesNothing) {
  auto r = CheckRemote(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kChecked);
  EXPECT_EQ(r->server, "");
  EXPECT_FALSE(fs::exists(home_ / ".local"));

  fs::create_directories(home_ / "bin");
  WriteFile(home_ / "bin/moshx", binary_);
  setenv("FAKE_SSH_PATH", (home_.string() + "/bin:/usr/bin:/bin").c_str(), 1);
  options_.check_command = "moshx";
  r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action, Action::kUnchanged);
  EXPECT_EQ(r->server, (home_ / "bin/moshx").string());
  EXPECT_FALSE(fs::exists(Dest()));
}

TEST_F(BootstrapTest, SshFailureCarriesItsMessage) {
  options_.ssh = "/bin/sh -c 'echo ssh: Could not resolve hostname nowhere >&2; exit 255'";
  auto r = Bootstrap(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("exit status 255"));
  EXPECT_THAT(r.status().message(), HasSubstr(":\n  ssh: Could not resolve hostname nowhere"));
}

TEST_F(BootstrapTest, JsonIsOneLine) {
  auto r = Bootstrap(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  std::string json = ResultJson(options_, *r);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_THAT(json, HasSubstr("\"action\":\"installed\""));
  EXPECT_THAT(json, HasSubstr("\"bytes\":" + std::to_string(binary_.size())));
  EXPECT_THAT(DescribeResult(options_, *r), HasSubstr("installed build"));
}

}  // namespace
}  // namespace moshx::cmd

namespace moshx::cmd {
namespace {

// `moshx connect --bootstrap`: the probe, the upload and the session request
// share one SSH connection; SERVE runs with the server chosen and the
// login's umask, and its output and status come back.
TEST_F(BootstrapTest, ConnectUploadsThenServesInTheSameConnection) {
  ConnectOptions c;
  c.destination = options_.destination;
  c.ssh = options_.ssh;
  const mode_t old_umask = umask(077);
  // BootstrapAndServe uploads /proc/self/exe (this test binary).
  auto first = BootstrapAndServe(c, "echo \"would run $srv\"; umask; exit 7");
  auto second = BootstrapAndServe(c, "echo \"would run $srv\"; umask");
  umask(old_umask);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->exit_code, 7);
  EXPECT_THAT(first->out, HasSubstr("would run " + Dest().string() + "\n0077\n"));
  EXPECT_EQ(Slurp(Dest()), Slurp("/proc/self/exe"));
  ExpectNoLeftovers();
  ASSERT_TRUE(second.ok()) << second.status();  // unchanged: nothing uploaded, same server
  EXPECT_EQ(second->exit_code, 0);
  EXPECT_THAT(second->out, HasSubstr("would run " + Dest().string() + "\n0077\n"));
}

TEST_F(BootstrapTest, ConnectServesTheSameBuildFoundOnPath) {
  fs::create_directories(root_ / "path-bin");
  WriteFile(root_ / "path-bin/moshx", Slurp("/proc/self/exe"));
  setenv("FAKE_SSH_PATH", (root_ / "path-bin:/usr/bin:/bin").c_str(), 1);
  ConnectOptions c;
  c.destination = options_.destination;
  c.ssh = options_.ssh;
  auto r = BootstrapAndServe(c, "echo \"would run $srv\"");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->out, HasSubstr("would run " + (root_ / "path-bin/moshx").string()));
  EXPECT_FALSE(fs::exists(Dest()));
}

TEST_F(OtherArchitectureTest, ConnectAutoRunsServerWithoutItsBuildInTheSameConnection) {
  ConnectOptions c;
  c.destination = options_.destination;
  c.ssh = options_.ssh;
  c.bootstrap_data_dir = options_.data_dir;
  auto r = BootstrapAndServe(c, "echo \"would run $srv\"");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->out, HasSubstr("would run moshx\n"));
  EXPECT_FALSE(fs::exists(home_ / ".local"));
  c.bootstrap = BootstrapMode::kAlways;  // always: no build is an error
  EXPECT_EQ(BootstrapAndServe(c, "echo x").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// --transport auto: SERVE runs with $bridge = --ssh-bridge and the
// connection's input stays open for the bridge's frames, when the build is
// there already and also after an upload where `head -c` reads exactly the
// binary; without head (the minimal PATH) the upload ends the input:
// $bridge is empty and no channel comes back.
TEST_F(BootstrapTest, ConnectKeepsTheConnectionForTheBridgeWhereItCan) {
  ConnectOptions c;
  c.destination = options_.destination;
  c.ssh = options_.ssh;
  const std::string serve =
      "echo \"bridge=[$bridge]\"; echo 'MOSHX BRIDGE'; exec cat";
  // The bridge's input is what comes back through `cat`; closing it ends
  // the remote.
  auto expect_bridge = [](std::unique_ptr<SshChannel>& bridge) {
    ASSERT_NE(bridge, nullptr);
    ASSERT_TRUE(bridge->Write("frame bytes\n").ok());
    absl::StatusOr<std::string> echoed = bridge->ReadLine();
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    EXPECT_EQ(*echoed, "frame bytes");
    bridge->CloseInput();
    EXPECT_EQ(bridge->Wait(), 0);
    bridge.reset();
  };
  std::unique_ptr<SshChannel> bridge;
  std::string server;
  auto uploaded = BootstrapAndServe(c, serve, &bridge, &server);  // uploads, head -c
  ASSERT_TRUE(uploaded.ok()) << uploaded.status();
  EXPECT_EQ(uploaded->out, "bridge=[--ssh-bridge]\n");
  EXPECT_EQ(server, Dest().string());
  EXPECT_EQ(Slurp(Dest()), Slurp("/proc/self/exe"));  // exactly the binary, nothing more
  expect_bridge(bridge);

  auto unchanged = BootstrapAndServe(c, serve, &bridge);
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_EQ(unchanged->out, "bridge=[--ssh-bridge]\n");
  expect_bridge(bridge);

  auto plain = BootstrapAndServe(c, serve);  // no bridge asked for
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_THAT(plain->out, HasSubstr("bridge=[]\nMOSHX BRIDGE\n"));

  fs::remove(Dest());
  UseMinimalPath("", "sha256sum");  // no head: the upload reads to the end
  auto without_head = BootstrapAndServe(c, serve, &bridge);
  ASSERT_TRUE(without_head.ok()) << without_head.status();
  EXPECT_EQ(bridge, nullptr);
  EXPECT_THAT(without_head->out, HasSubstr("bridge=[]\nMOSHX BRIDGE\n"));
  EXPECT_EQ(Slurp(Dest()), Slurp("/proc/self/exe"));
}

// A remote that never prints the bridge line (a refusal): its output is the
// answer, as without a bridge.
TEST_F(BootstrapTest, ConnectWithoutABridgeLineReturnsTheOutput) {
  ConnectOptions c;
  c.destination = options_.destination;
  c.ssh = options_.ssh;
  ASSERT_TRUE(BootstrapAndServe(c, "true").ok());  // upload first
  std::unique_ptr<SshChannel> bridge;
  auto r = BootstrapAndServe(c, "echo 'moshx serve: no session named x' >&2; exit 1", &bridge);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(bridge, nullptr);
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_THAT(r->err, HasSubstr("moshx serve: no session named x"));
}

}  // namespace
}  // namespace moshx::cmd
