#include "cmd/launch/bootstrap.h"

#include <elf.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cmd/launch/server_args.h"
#include "cmd/launch/ssh.h"
#include "cmd/launch/ssh_channel.h"
#include "cmd/launch/terminal_safe.h"

namespace moshx::cmd {
namespace {

#define MOSHX_BOOT_ASSIGN_OR_RETURN(lhs, expr) \
  auto lhs##_or = (expr);                      \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = std::move(*lhs##_or)

#define MOSHX_BOOT_RETURN_IF_ERROR(expr) \
  do {                                   \
    absl::Status s_ = (expr);            \
    if (!s_.ok()) return s_;             \
  } while (0)

constexpr size_t kChunk = 64 * 1024;

absl::StatusOr<std::string> ReadBinary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("error reading ", path));
  return data.str();
}

// The GNU build id in an ELF64 image's PT_NOTE segments, lowercase hex; empty
// when there is none or the image is not ELF64 (bounds-checked throughout).
std::string ElfBuildId(absl::string_view elf) {
  if (elf.size() < sizeof(Elf64_Ehdr) || elf.substr(0, 4) != ELFMAG) return "";
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof eh);
  for (int i = 0; i < eh.e_phnum; ++i) {
    uint64_t at = eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize;
    if (eh.e_phentsize < sizeof(Elf64_Phdr) || at + sizeof(Elf64_Phdr) > elf.size()) return "";
    Elf64_Phdr ph;
    std::memcpy(&ph, elf.data() + at, sizeof ph);
    if (ph.p_type != PT_NOTE || ph.p_offset > elf.size() || ph.p_filesz > elf.size() - ph.p_offset) {
      continue;
    }
    for (uint64_t p = ph.p_offset, end = ph.p_offset + ph.p_filesz; p + sizeof(Elf64_Nhdr) <= end;) {
      Elf64_Nhdr nh;
      std::memcpy(&nh, elf.data() + p, sizeof nh);
      uint64_t name = p + sizeof nh, desc = name + ((uint64_t{nh.n_namesz} + 3) & ~3ull);
      if (desc + nh.n_descsz > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && elf.substr(name, 4) == absl::string_view("GNU", 4)) {
        return absl::BytesToHexString(elf.substr(desc, nh.n_descsz));
      }
      p = desc + ((uint64_t{nh.n_descsz} + 3) & ~3ull);
    }
  }
  return "";
}

// e_machine of `arch`'s executables (`uname -m` spelling); 0 if unknown.
int ElfMachine(absl::string_view arch) {
  if (arch == "x86_64") return EM_X86_64;
  if (arch == "aarch64") return EM_AARCH64;
  return 0;
}

// Empty when `elf` is a statically linked little-endian ELF64 executable for
// `arch`, else what it is not (bounds-checked throughout).
std::string NotAStaticExecutable(absl::string_view elf, absl::string_view arch) {
  if (elf.size() < sizeof(Elf64_Ehdr) || elf.substr(0, 4) != ELFMAG) return "not an ELF file";
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return "not a 64-bit little-endian ELF file";
  }
  if (eh.e_machine != ElfMachine(arch)) return absl::StrCat("not an ", arch, " executable");
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return "not an executable";
  for (int i = 0; i < eh.e_phnum; ++i) {
    uint64_t at = eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize;
    if (eh.e_phentsize < sizeof(Elf64_Phdr) || at + sizeof(Elf64_Phdr) > elf.size()) {
      return "a damaged ELF file";
    }
    Elf64_Phdr ph;
    std::memcpy(&ph, elf.data() + at, sizeof ph);
    if (ph.p_type == PT_INTERP) return "dynamically linked; the remote needs a static build";
  }
  return "";
}

std::string Sha256Hex(absl::string_view data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

// A failure of the connection itself: ssh's status and its last stderr line.
absl::Status SshFailure(SshChannel& channel, absl::string_view when) {
  int status = channel.Wait();
  std::string detail;
  for (absl::string_view line : absl::StrSplit(channel.ErrorOutput(), '\n', absl::SkipWhitespace())) {
    absl::StrAppend(&detail, "\n  ", absl::StripTrailingAsciiWhitespace(line));
  }
  return absl::UnavailableError(
      absl::StrCat("ssh ", when, " (exit status ", status, ")", detail.empty() ? "" : ":", detail));
}

// Why ReadLine failed: the connection's end (ssh's status and message), or a
// remote that went silent or sent an overlong line (the channel's destructor
// then kills ssh; waiting for it could hang).
absl::Status ReadFailure(SshChannel& channel, const absl::Status& read, absl::string_view when) {
  if (absl::IsUnavailable(read)) return SshFailure(channel, when);
  return absl::Status(read.code(), absl::StrCat("ssh ", when, ": ", read.message()));
}

// Lines a login may print before the script's first (motd, banners), and
// lines of a multi-line error kept: a bound on what a hostile remote can make
// moshx read and print.
constexpr size_t kMaxBannerLines = 1000;
constexpr size_t kMaxErrorLines = 20;

// Reads the probe lines up to "end".
absl::StatusOr<RemoteProbe> ReadProbe(SshChannel& channel) {
  std::vector<std::string> lines;
  for (size_t banner_lines = 0;;) {
    absl::StatusOr<std::string> line = channel.ReadLine();
    if (!line.ok()) {
      return ReadFailure(channel, line.status(), lines.empty() ? "failed" : "stopped early");
    }
    if (lines.empty() && !absl::StartsWith(*line, "moshx-bootstrap ")) {  // banners
      if (++banner_lines > kMaxBannerLines) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the remote printed more than ", kMaxBannerLines, " lines before the bootstrap "
            "script's first"));
      }
      continue;
    }
    if (lines.size() > kMaxBannerLines) {
      return absl::InvalidArgumentError("the remote's probe never ended");
    }
    lines.push_back(*line);
    if (*line == "end") return ParseProbe(lines);
  }
}

// An "error ..." reply plus whatever lines the remote printed after it
// (multi-line messages from mkdir/mv), as one Status.
absl::Status ReadError(SshChannel& channel, const absl::Status& first) {
  std::vector<std::string> parts = {std::string(first.message())};
  for (absl::StatusOr<std::string> line = channel.ReadLine();
       line.ok() && parts.size() < kMaxErrorLines; line = channel.ReadLine()) {
    parts.push_back(*line);
  }
  return absl::Status(first.code(), absl::StrJoin(parts, "; "));
}

// Adds what went wrong for the user to the remote's own message.
absl::Status Unwritable(const std::string& path, const absl::Status& s) {
  if (s.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(absl::StrCat("the upload did not arrive intact (", s.message(),
                                            "); ", path, " was left as it was"));
  }
  if (s.code() != absl::StatusCode::kPermissionDenied) return s;
  return absl::PermissionDeniedError(absl::StrCat(
      "cannot write ", path, ": ", s.message(),
      " (read-only or foreign home? choose a writable place with --dest)"));
}

// Sends `binary`; with `bridge` asks the remote to keep reading after it
// ("upload ... bridge"), and *input_kept says whether it will (it answered
// "ready exact"): then the input is left open, else it is closed.
absl::Status Upload(SshChannel& channel, absl::string_view binary, const BootstrapResult& r,
                    const BootstrapProgress& progress, bool bridge = false,
                    bool* input_kept = nullptr) {
  const std::string& path = r.path;
  if (input_kept != nullptr) *input_kept = false;
  MOSHX_BOOT_RETURN_IF_ERROR(
      channel.Write(UploadCommand(binary.size(), r.sha256, r.build_id, bridge)));
  absl::StatusOr<std::string> ready = channel.ReadLine();
  if (!ready.ok()) return ReadFailure(channel, ready.status(), "stopped before the upload");
  const bool exact = bridge && *ready == "ready exact";
  if (*ready != "ready" && !exact) {
    absl::StatusOr<RemoteFile> reply = ParseUploadReply(*ready);
    return Unwritable(path, ReadError(channel, reply.status()));
  }
  if (progress) progress(0, binary.size());
  size_t sent = 0;
  while (sent < binary.size()) {
    size_t n = std::min(kChunk, binary.size() - sent);
    if (!channel.Write(binary.substr(sent, n)).ok()) break;  // the reply says why
    sent += n;
    if (progress) progress(sent, binary.size());
  }
  if (exact && sent == binary.size()) {
    if (input_kept != nullptr) *input_kept = true;
  } else {
    channel.CloseInput();
  }
  absl::StatusOr<std::string> line = channel.ReadLine();
  if (!line.ok()) return ReadFailure(channel, line.status(), "stopped during the upload");
  absl::StatusOr<RemoteFile> installed = ParseUploadReply(*line);
  if (!installed.ok()) return Unwritable(path, ReadError(channel, installed.status()));
  if (!IsSameBuild(*installed, r.sha256, r.build_id)) {
    return absl::DataLossError(absl::StrCat(path, " does not match this build after the upload"));
  }
  return absl::OkStatus();
}

BootstrapResult::Action Decide(const BootstrapOptions& o, const RemoteProbe& probe,
                               const std::string& sha256, const std::string& id,
                               std::string* server) {
  if (!o.force && IsSameBuild(probe.command, sha256, id)) *server = probe.command.path;
  else if (!o.force && IsSameBuild(probe.dest, sha256, id)) *server = probe.dest.path;
  if (!server->empty()) return BootstrapResult::Action::kUnchanged;
  return probe.dest.state == RemoteFile::State::kMissing ? BootstrapResult::Action::kInstalled
                                                         : BootstrapResult::Action::kReplaced;
}

absl::StatusOr<BootstrapResult> Run(const BootstrapOptions& o, bool check_only,
                                    const BootstrapProgress& progress) {
  MOSHX_BOOT_ASSIGN_OR_RETURN(ssh_words, SplitCommandLine(o.ssh));
  std::vector<std::string> argv = ssh_words;
  // ssh's own zlib compression (no remote tool needed) more than halves the
  // bytes of a static binary; a Compression option in --ssh comes first and wins.
  // "--" first: a destination beginning with '-' is a host name, never an option.
  argv.insert(argv.end(), {"-T", "-o", "Compression=yes", "--", o.destination,
                           BootstrapRemoteCommand(o.dest_path, o.check_command)});
  MOSHX_BOOT_ASSIGN_OR_RETURN(channel, SshChannel::Start(argv));
  BootstrapResult r;
  MOSHX_BOOT_ASSIGN_OR_RETURN(probe, ReadProbe(*channel));
  r.probe = probe;
  r.path = probe.dest.path;
  // The build for the remote's architecture, chosen within this one
  // connection (the remote waits for "skip" or "upload"). CheckPlatform
  // first: it limits probe.arch, which names a local file, to known values.
  MOSHX_BOOT_RETURN_IF_ERROR(CheckPlatform(probe));
  MOSHX_BOOT_ASSIGN_OR_RETURN(build, FindBuild(o, probe.arch));
  const std::string& binary = build.bytes;
  r.binary = build.path;
  r.sha256 = Sha256Hex(binary);
  r.build_id = ElfBuildId(binary);
  r.action = Decide(o, probe, r.sha256, r.build_id, &r.server);
  if (check_only || r.action == BootstrapResult::Action::kUnchanged) {
    if (check_only) r.action = BootstrapResult::Action::kChecked;
    // The remote may have gone already; Wait() below is what tells.
    channel->Write("skip\n").IgnoreError();
    channel->Wait();
    return r;
  }
  absl::Time start = absl::Now();
  MOSHX_BOOT_RETURN_IF_ERROR(Upload(*channel, binary, r, progress));
  r.upload_time = absl::Now() - start;
  r.bytes_uploaded = binary.size();
  r.server = r.path;
  channel->Wait();
  return r;
}

// A JSON string of `s`; remote text in it is made TerminalSafe first (the
// JSON may be shown on a terminal, and must be valid UTF-8).
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : TerminalSafe(s)) {
    if (c == '"' || c == '\\') absl::StrAppend(&out, "\\", std::string(1, c));
    else if (c < 0x20) absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    else out.push_back(c);
  }
  return out + "\"";
}

// The progress bar: one line on stderr, redrawn in place.
void DrawProgress(uint64_t sent, uint64_t total, absl::Time start) {
  constexpr int kWidth = 30;
  int filled = total == 0 ? kWidth : static_cast<int>(sent * kWidth / total);
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  double rate = seconds > 0 ? sent / seconds / 1e6 : 0;
  std::fprintf(stderr, "\rmoshx: uploading [%s%s] %3d%% %.1f/%.1f MB %.1f MB/s%s",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
               static_cast<int>(total == 0 ? 100 : sent * 100 / total), sent / 1e6, total / 1e6,
               rate, sent == total ? "\n" : "");
  std::fflush(stderr);
}

// The progress bar when stderr is a terminal (and not --json), else none.
BootstrapProgress TerminalProgress(const BootstrapOptions& options) {
  if (options.json || !isatty(STDERR_FILENO)) return nullptr;
  return [start = absl::InfinitePast(), last = absl::InfinitePast()](uint64_t sent,
                                                                    uint64_t total) mutable {
    absl::Time now = absl::Now();
    if (sent == 0) start = now;
    if (sent != total && now - last < absl::Milliseconds(100)) return;  // ~10 redraws a second
    last = now;
    DrawProgress(sent, total, start);
  };
}

// " (the aarch64 build, /dir/moshx-linux-aarch64)" when `r` is about a build
// other than the running binary, else "".
std::string WhichBuild(const BootstrapResult& r) {
  if (r.probe.arch == kBootstrapArch) return "";
  return absl::StrCat(" (the ", r.probe.arch, " build, ", r.binary, ")");
}

}  // namespace

absl::StatusOr<LocalBuild> FindBuild(const BootstrapOptions& o, const std::string& arch) {
  namespace fs = std::filesystem;
  if (arch == kBootstrapArch) {
    MOSHX_BOOT_ASSIGN_OR_RETURN(bytes, ReadBinary(o.binary_path));
    return LocalBuild{o.binary_path, std::move(bytes)};
  }
  const std::string name = BuildFileName(arch);
  std::vector<fs::path> dirs;
  std::error_code ec;
  fs::path self = fs::canonical(o.binary_path, ec);  // /proc/self/exe -> the file
  if (!ec) dirs.push_back(self.parent_path());
  if (!o.data_dir.empty()) dirs.push_back(fs::path(o.data_dir));
  std::vector<std::string> looked;
  for (const fs::path& dir : dirs) {
    const std::string path = (dir / name).string();
    if (!fs::exists(path, ec)) {
      looked.push_back(absl::StrCat(path, " (not there)"));
      continue;
    }
    absl::StatusOr<std::string> bytes = ReadBinary(path);
    std::string problem = bytes.ok() ? NotAStaticExecutable(*bytes, arch) : "cannot be read";
    if (problem.empty()) return LocalBuild{path, *std::move(bytes)};
    looked.push_back(absl::StrCat(path, " (", problem, ")"));
  }
  if (looked.empty()) looked.push_back("nowhere (no directory to look in)");
  return absl::FailedPreconditionError(absl::StrCat(
      "the remote runs ", kBootstrapOs, " ", arch, " and this moshx is the ", kBootstrapArch,
      " build; no ", arch, " build found: looked for ", absl::StrJoin(looked, " and "),
      ". Get one with tools/release in moshx's source tree (it writes dist/", name,
      ") and put it beside this moshx or in ",
      o.data_dir.empty() ? "$XDG_DATA_HOME/moshx" : o.data_dir));
}

absl::StatusOr<BootstrapResult> CheckRemote(const BootstrapOptions& options) {
  return Run(options, /*check_only=*/true, nullptr);
}

absl::StatusOr<BootstrapResult> Bootstrap(const BootstrapOptions& options,
                                          const BootstrapProgress& progress) {
  return Run(options, /*check_only=*/false, progress);
}

const char* ActionName(BootstrapResult::Action action) {
  switch (action) {
    case BootstrapResult::Action::kChecked: return "checked";
    case BootstrapResult::Action::kUnchanged: return "unchanged";
    case BootstrapResult::Action::kInstalled: return "installed";
    case BootstrapResult::Action::kReplaced: return "replaced";
  }
  return "unknown";
}

std::string DescribeResult(const BootstrapOptions& o, const BootstrapResult& r) {
  std::string how = r.probe.hash_tool == "none" ? "build id checked with --version"
                                                : absl::StrCat("sha256 checked with ", r.probe.hash_tool);
  if (r.action == BootstrapResult::Action::kUnchanged) {
    return absl::StrCat("moshx: ", o.destination, " already has this build", WhichBuild(r), " at ",
                        r.server, " (", how, "); nothing uploaded");
  }
  if (r.action == BootstrapResult::Action::kChecked) {
    return absl::StrCat("moshx: ", o.destination, ": ", r.probe.os, " ", r.probe.arch, ", ",
                        r.server.empty() ? "no copy of this build" : r.server, WhichBuild(r));
  }
  return absl::StrCat("moshx: ", ActionName(r.action), " build ", r.build_id.substr(0, 12),
                      WhichBuild(r), " at ", r.path, " on ", o.destination, " (",
                      r.bytes_uploaded, " bytes in ",
                      absl::StrFormat("%.2f", absl::ToDoubleSeconds(r.upload_time)), " s, ",
                      how, ")");
}

std::string ResultJson(const BootstrapOptions& o, const BootstrapResult& r) {
  return absl::StrCat(
      "{\"ok\":true,\"action\":\"", ActionName(r.action), "\",\"host\":", JsonString(o.destination),
      ",\"path\":", JsonString(r.path), ",\"server\":", JsonString(r.server),
      ",\"os\":", JsonString(r.probe.os), ",\"arch\":", JsonString(r.probe.arch),
      ",\"hash_tool\":", JsonString(r.probe.hash_tool), ",\"binary\":", JsonString(r.binary),
      ",\"sha256\":\"", r.sha256,
      "\",\"build_id\":\"", r.build_id, "\",\"bytes\":", r.bytes_uploaded, ",\"seconds\":",
      absl::StrFormat("%.3f", absl::ToDoubleSeconds(r.upload_time)), "}");
}

absl::StatusOr<std::string> ServerAfterBootstrap(const ConnectOptions& c) {
  const bool auto_mode = c.bootstrap == BootstrapMode::kAuto;
  if (c.bootstrap == BootstrapMode::kNever || (auto_mode && c.server != "moshx")) return c.server;
  BootstrapOptions b;
  b.destination = c.destination;
  b.ssh = c.ssh;
  b.force = c.bootstrap == BootstrapMode::kAlways;
  b.data_dir = c.bootstrap_data_dir;
  if (auto_mode) b.check_command = c.server;
  absl::StatusOr<BootstrapResult> r = Bootstrap(b, TerminalProgress(b));
  if (!r.ok()) {
    absl::StatusCode code = r.status().code();
    if (!auto_mode || (code != absl::StatusCode::kFailedPrecondition &&
                       code != absl::StatusCode::kPermissionDenied)) {
      return absl::Status(code, absl::StrCat("bootstrap: ", r.status().message()));
    }
    std::fprintf(stderr, "moshx: not copying moshx to %s: %s; trying '%s' there\n",
                 c.destination.c_str(), TerminalSafe(r.status().message()).c_str(),
                 c.server.c_str());
    return c.server;
  }
  if (r->action != BootstrapResult::Action::kUnchanged || c.verbose > 0) {
    std::fprintf(stderr, "%s\n", TerminalSafe(DescribeResult(b, *r)).c_str());
  }
  return ShellQuote(r->server);
}

bool ConnectBootstraps(const ConnectOptions& c) {
  return c.bootstrap == BootstrapMode::kAlways ||
         (c.bootstrap == BootstrapMode::kAuto && c.server == "moshx");
}

absl::StatusOr<ProcessResult> BootstrapAndServe(const ConnectOptions& c,
                                                absl::string_view serve_command_line,
                                                std::unique_ptr<SshChannel>* bridge,
                                                std::string* bridge_server) {
  const bool auto_mode = c.bootstrap == BootstrapMode::kAuto;
  BootstrapOptions b;
  b.destination = c.destination;
  b.ssh = c.ssh;
  b.force = c.bootstrap == BootstrapMode::kAlways;
  b.data_dir = c.bootstrap_data_dir;
  if (auto_mode) b.check_command = c.server;
  auto fail = [](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("bootstrap: ", s.message()));
  };
  auto ssh_words = SplitCommandLine(b.ssh);
  if (!ssh_words.ok()) return fail(ssh_words.status());
  std::vector<std::string> argv = *ssh_words;
  // With a bridge the connection goes on as the session's: interactive
  // (see BuildSshArgvWithInput).
  if (bridge != nullptr) argv.insert(argv.end(), {"-o", "IPQoS=lowdelay"});
  argv.insert(argv.end(), {"-T", "-o", "Compression=yes", "--", b.destination,
                           BootstrapRemoteCommand(b.dest_path, b.check_command,
                                                  serve_command_line)});
  auto channel = SshChannel::Start(argv);
  if (!channel.ok()) return fail(channel.status());
  SshChannel& ch = **channel;
  auto probe = ReadProbe(ch);
  if (!probe.ok()) return fail(probe.status());
  BootstrapResult r;
  r.probe = *probe;
  r.path = probe->dest.path;
  std::string op;  // what the remote runs SERVE with
  bool upload_kept_input = false;  // "ready exact": SERVE runs with --ssh-bridge
  absl::Status platform = CheckPlatform(*probe);
  absl::StatusOr<LocalBuild> build =
      platform.ok() ? FindBuild(b, probe->arch) : absl::StatusOr<LocalBuild>(platform);
  if (!build.ok()) {
    if (!auto_mode || !absl::IsFailedPrecondition(build.status())) {
      ch.Write("skip\n").IgnoreError();
      ch.Wait();
      return fail(build.status());
    }
    std::fprintf(stderr, "moshx: not copying moshx to %s: %s; trying '%s' there\n",
                 c.destination.c_str(), TerminalSafe(build.status().message()).c_str(),
                 c.server.c_str());
    op = "serve command\n";
  } else {
    r.binary = build->path;
    r.sha256 = Sha256Hex(build->bytes);
    r.build_id = ElfBuildId(build->bytes);
    r.action = Decide(b, *probe, r.sha256, r.build_id, &r.server);
    if (r.action == BootstrapResult::Action::kUnchanged) {
      // This very build runs there: it has --ssh-bridge.
      op = absl::StrCat(r.server == probe->command.path ? "serve command" : "serve dest",
                        bridge != nullptr ? " bridge\n" : "\n");
      if (c.verbose > 0) std::fprintf(stderr, "%s\n", TerminalSafe(DescribeResult(b, r)).c_str());
    } else {
      absl::Time start = absl::Now();
      absl::Status uploaded =
          Upload(ch, build->bytes, r, TerminalProgress(b), bridge != nullptr, &upload_kept_input);
      if (!uploaded.ok()) {
        ch.Wait();
        if (auto_mode && absl::IsPermissionDenied(uploaded)) {
          std::fprintf(stderr, "moshx: not copying moshx to %s: %s; trying '%s' there\n",
                       c.destination.c_str(), TerminalSafe(uploaded.message()).c_str(),
                       c.server.c_str());
          return absl::NotFoundError("run --server with a connection of its own");
        }
        return fail(uploaded);
      }
      r.upload_time = absl::Now() - start;
      r.bytes_uploaded = build->bytes.size();
      r.server = r.path;
      std::fprintf(stderr, "%s\n", TerminalSafe(DescribeResult(b, r)).c_str());
      // The script runs SERVE with DEST by itself after "installed".
    }
  }
  const bool bridging =
      bridge != nullptr && (absl::EndsWith(op, " bridge\n") || upload_kept_input);
  if (!op.empty()) {
    if (absl::Status w = ch.Write(op); !w.ok()) return fail(SshFailure(ch, "stopped early"));
    if (!bridging) ch.CloseInput();
  }
  ProcessResult result;
  if (bridging) {
    if (ReadLinesUntil(ch, kBridgeLine, kMaxLinesBeforeBridge, &result.out)) {
      // The server sends nothing before it heard the client (docs/protocol.md
      // §8.1), so nothing may follow the bridge line yet.
      if (!ch.buffered_output().empty()) {
        return absl::UnavailableError(absl::StrCat(
            "the server on ", c.destination, " sent unexpected bytes after its bridge line"));
      }
      *bridge = *std::move(channel);
      if (bridge_server != nullptr) *bridge_server = r.server;
      return result;
    }
    // No bridge (a refusal, say): what it printed is the answer.
    ch.CloseInput();
  }
  for (absl::StatusOr<std::string> line = ch.ReadLine(); line.ok(); line = ch.ReadLine()) {
    absl::StrAppend(&result.out, *line, "\n");
  }
  result.exit_code = ch.Wait();
  result.err = ch.ErrorOutput();
  return result;
}

int RunBootstrap(const BootstrapOptions& options) {
  absl::StatusOr<BootstrapResult> r = Bootstrap(options, TerminalProgress(options));
  if (!r.ok()) {
    std::string message = absl::StrCat("bootstrap ", options.destination, ": ", r.status().message());
    std::fprintf(stderr, "moshx: %s\n", TerminalSafe(message).c_str());
    if (options.json) std::printf("{\"ok\":false,\"error\":%s}\n", JsonString(message).c_str());
    return 1;
  }
  // Remote paths are in both (JsonString makes them safe itself).
  std::string line =
      options.json ? ResultJson(options, *r) : TerminalSafe(DescribeResult(options, *r));
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace moshx::cmd
