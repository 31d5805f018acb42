#include "cmd/launch/bootstrap_script.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmd/launch/ssh.h"

namespace moshx::cmd {
namespace {

// One shell statement (or compound opener) per element; joined with spaces.
// $1 DEST, $2 COMMAND, $3 OS, $4 ARCHES, $5 SERVE. No newlines, backslashes
// or single quotes anywhere (see the header).
constexpr const char* kScript[] = {
    "um=$(umask); umask 022;",
    "dest=$1; cmd=$2; wos=$3; warch=$4; serve=${5:-}; bridge=;",
    "say() { printf \"%s\" \"$*\"; echo; };",
    "fail() { say \"error $1 $2\"; exit 3; };",
    "tool=none;",
    "for t in sha256sum shasum openssl; do",
    "  if command -v \"$t\" >/dev/null 2>&1; then tool=$t; break; fi;",
    "done;",
    "hashof() { case $tool in",
    "  sha256sum) h=$(sha256sum <\"$1\") || return 1; say \"${h%% *}\";;",
    "  shasum) h=$(shasum -a 256 <\"$1\") || return 1; say \"${h%% *}\";;",
    "  openssl) h=$(openssl dgst -sha256 <\"$1\") || return 1; say \"${h##* }\";;",
    "  *) return 1;;",
    "esac; };",
    "idof() { v=$(\"$1\" --version </dev/null 2>/dev/null) || return 1;",
    "  v=${v##*\"(build \"}; v=${v%%\")\"*}; say \"$v\"; };",
    "os=$(uname -s 2>/dev/null); arch=$(uname -m 2>/dev/null);",
    "describe() { if [ -f \"$1\" ]; then",
    "  h=$(hashof \"$1\") || h=; [ -n \"$h\" ] || h=-; i=-;",
    "  if [ \"$tool\" = none ] && [ \"$os\" = \"$wos\" ]; then case \" $warch \" in",
    "    *\" $arch \"*) i=$(idof \"$1\") || i=; [ -n \"$i\" ] || i=-;; esac; fi;",
    "  say \"file $h $i\";",
    "elif [ -e \"$1\" ] || [ -L \"$1\" ]; then say other; else say missing; fi; };",
    "case $dest in \"~/\"*) dest=$HOME/${dest#\"~/\"};; /*) ;; *) dest=$HOME/$dest;; esac;",
    "say \"moshx-bootstrap 1\"; say \"os $os\"; say \"arch $arch\"; say \"tool $tool\";",
    "say \"path $dest\"; say \"dest $(describe \"$dest\")\";",
    "p=; [ -z \"$cmd\" ] || p=$(command -v \"$cmd\" 2>/dev/null) || p=;",
    "case $p in /*) say \"command $p $(describe \"$p\")\";; *) say \"command -\";; esac;",
    "say end;",
    // SERVE runs with the login's umask, srv naming the server to run.
    "run() { umask \"$um\"; srv=$1; eval \"$serve\"; };",
    "read -r op size want wid br || exit 0;",
    // "serve dest bridge": SERVE's $bridge is --ssh-bridge (the rest of this
    // input is the bridge's); after an upload the input is at its end: none.
    "if [ \"$op\" = serve ] && [ -n \"$serve\" ]; then",
    "  if [ \"$want\" = bridge ]; then bridge=--ssh-bridge; fi; case $size in",
    "  dest) run \"$dest\";; *) if [ -n \"$p\" ]; then run \"$p\"; else run \"$cmd\"; fi;;",
    "esac; exit; fi;",
    "[ \"$op\" = upload ] || exit 0;",
    "[ -d \"$dest\" ] && fail unwritable \"$dest is a directory\";",
    "dir=${dest%/*}; [ -n \"$dir\" ] || dir=/;",
    "if [ -d \"$dir\" ]; then :; else m=$(mkdir -p \"$dir\" 2>&1) || fail unwritable \"$m\"; fi;",
    // The upload goes into a fresh private directory: an unpredictable name
    // (64 random bits from od, $$ where od is missing), made by mkdir, which
    // fails on anything already there (a planted symlink included) and
    // follows no link; nobody else can put anything inside a 0700 directory.
    // cleanup is installed only once the directory is ours.
    "trap \"exit 4\" HUP INT TERM PIPE;",
    "r=; for w in $(od -An -N8 -tx8 /dev/urandom 2>/dev/null); do r=$r$w; done;",
    "[ -n \"$r\" ] || r=$$;",
    "tmpd=$dir/.moshx-bootstrap.$r; tmp=$tmpd/moshx;",
    "m=$(mkdir -m 700 \"$tmpd\" 2>&1) || fail unwritable \"$m\";",
    "cleanup() { rm -rf \"$tmpd\"; };",
    "trap cleanup EXIT;",
    // "upload ... bridge": read exactly SIZE bytes where head -c can (GNU,
    // busybox), so that the rest of the input is the bridge's; else to EOF.
    "exact=; if [ \"$br\" = bridge ] && [ -n \"$serve\" ] && head -c 0 </dev/null >/dev/null 2>&1;",
    "then exact=1; say \"ready exact\"; else say ready; fi;",
    "m=$(if [ -n \"$exact\" ]; then head -c \"$size\"; else cat; fi >\"$tmp\" 2>&1) ||",
    "  fail write \"$m\";",
    "n=$(( $(wc -c <\"$tmp\") ));",
    "[ \"$n\" = \"$size\" ] || fail truncated \"received $n of $size bytes\";",
    "if [ \"$tool\" = none ]; then chmod 700 \"$tmp\";",
    "  got=$(idof \"$tmp\") || got=-;",
    "  [ \"$got\" = \"$wid\" ] || fail corrupt \"build id $got after upload, expected $wid\";",
    "else got=$(hashof \"$tmp\") || got=-;",
    "  [ \"$got\" = \"$want\" ] || fail corrupt \"sha256 $got after upload, expected $want\"; fi;",
    "m=$(chmod 755 \"$tmp\" 2>&1) || fail unwritable \"$m\";",
    "m=$(mv -f \"$tmp\" \"$dest\" 2>&1) || fail unwritable \"$m\";",
    "say \"installed $(describe \"$dest\")\";",
    "if [ -n \"$serve\" ]; then cleanup; trap - EXIT HUP INT TERM PIPE;",
    "  if [ -n \"$exact\" ]; then bridge=--ssh-bridge; fi; run \"$dest\"; fi;",
};

bool IsHex(absl::string_view s, size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

// "missing" | "other" | "file HASH ID" (what `describe` prints) into `file`.
absl::Status ParseDescription(absl::string_view text, RemoteFile* file) {
  if (text == "missing") {
    file->state = RemoteFile::State::kMissing;
    return absl::OkStatus();
  }
  if (text == "other") {
    file->state = RemoteFile::State::kOther;
    return absl::OkStatus();
  }
  std::vector<absl::string_view> words = absl::StrSplit(text, ' ');
  if (words.size() != 3 || words[0] != "file") {
    return absl::InvalidArgumentError(absl::StrCat("bad file description '", text, "'"));
  }
  file->state = RemoteFile::State::kFile;
  std::string hash = absl::AsciiStrToLower(words[1]);
  file->sha256 = IsHex(hash, 64) ? hash : "";
  file->build_id = IsHex(words[2], 12) ? std::string(words[2]) : "";
  return absl::OkStatus();
}

// "command -" or "command PATH DESCRIPTION": PATH may hold spaces, so the
// description is split off the end.
absl::Status ParseCommandProbe(absl::string_view rest, RemoteFile* file) {
  if (rest == "-") return absl::OkStatus();
  for (absl::string_view suffix : {" missing", " other"}) {
    if (absl::EndsWith(rest, suffix)) {
      file->path = std::string(rest.substr(0, rest.size() - suffix.size()));
      return ParseDescription(suffix.substr(1), file);
    }
  }
  size_t pos = rest.rfind(" file ");
  if (pos == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad command line '", rest, "'"));
  }
  file->path = std::string(rest.substr(0, pos));
  return ParseDescription(rest.substr(pos + 1), file);
}

absl::Status ParseProbeLine(absl::string_view key, absl::string_view value, RemoteProbe* probe) {
  if (key == "os") probe->os = std::string(value);
  else if (key == "arch") probe->arch = std::string(value);
  else if (key == "tool") probe->hash_tool = std::string(value);
  else if (key == "path") probe->dest.path = std::string(value);
  else if (key == "dest") return ParseDescription(value, &probe->dest);
  else if (key == "command") return ParseCommandProbe(value, &probe->command);
  // Unknown keys are ignored: a later script may report more.
  return absl::OkStatus();
}

}  // namespace

const std::string& BootstrapScript() {
  static const std::string* const script = new std::string(absl::StrJoin(kScript, " "));
  return *script;
}

std::string BuildFileName(absl::string_view arch) {
  return absl::StrCat("moshx-linux-", arch);
}

std::string BootstrapRemoteCommand(absl::string_view dest, absl::string_view command,
                                   absl::string_view serve) {
  std::vector<std::string> words = {"sh", "-c", BootstrapScript(), "moshx-bootstrap",
                                    std::string(dest), std::string(command), kBootstrapOs,
                                    absl::StrJoin(kBootstrapArches, " ")};
  if (!serve.empty()) words.emplace_back(serve);
  return ShellJoin(words);
}

absl::StatusOr<RemoteProbe> ParseProbe(const std::vector<std::string>& lines) {
  if (lines.empty() || !absl::StartsWith(lines[0], "moshx-bootstrap ")) {
    return absl::InvalidArgumentError("the remote did not run the bootstrap script");
  }
  if (lines[0] != "moshx-bootstrap 1") {
    return absl::UnimplementedError(absl::StrCat("unknown protocol '", lines[0], "'"));
  }
  if (lines.back() != "end") return absl::InvalidArgumentError("probe ended early");
  RemoteProbe probe;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(lines[i], absl::MaxSplits(' ', 1));
    absl::Status s = ParseProbeLine(kv.first, kv.second, &probe);
    if (!s.ok()) return s;
  }
  if (probe.dest.path.empty()) return absl::InvalidArgumentError("probe has no path");
  return probe;
}

absl::Status CheckPlatform(const RemoteProbe& probe) {
  if (probe.os == kBootstrapOs &&
      std::find(std::begin(kBootstrapArches), std::end(kBootstrapArches), probe.arch) !=
          std::end(kBootstrapArches)) {
    return absl::OkStatus();
  }
  std::string remote = absl::StrCat(probe.os.empty() ? "an unknown OS" : probe.os, " ",
                                    probe.arch.empty() ? "(unknown architecture)" : probe.arch);
  return absl::FailedPreconditionError(absl::StrCat(
      "the remote runs ", remote, ", but moshx is built for ", kBootstrapOs, " ",
      absl::StrJoin(kBootstrapArches, " and "), " only (static binaries); build moshx for that "
      "platform and copy it there"));
}

bool IsSameBuild(const RemoteFile& file, absl::string_view sha256, absl::string_view build_id) {
  if (file.state != RemoteFile::State::kFile) return false;
  if (!file.sha256.empty()) return file.sha256 == sha256;
  return !file.build_id.empty() && build_id.size() >= 12 &&
         file.build_id == build_id.substr(0, 12);
}

std::string UploadCommand(uint64_t size, absl::string_view sha256, absl::string_view build_id,
                          bool bridge) {
  std::string id(build_id.substr(0, 12));
  if (id.empty()) id = "-";
  return absl::StrCat("upload ", size, " ", sha256, " ", id, bridge ? " bridge\n" : "\n");
}

absl::StatusOr<RemoteFile> ParseUploadReply(absl::string_view line) {
  if (absl::ConsumePrefix(&line, "installed ")) {
    RemoteFile file;
    absl::Status s = ParseDescription(line, &file);
    if (!s.ok()) return s;
    return file;
  }
  if (!absl::ConsumePrefix(&line, "error ")) {
    return absl::InternalError(absl::StrCat("unexpected reply '", line, "'"));
  }
  std::pair<absl::string_view, absl::string_view> kind_message =
      absl::StrSplit(line, absl::MaxSplits(' ', 1));
  std::string message(kind_message.second);
  if (kind_message.first == "unwritable") return absl::PermissionDeniedError(message);
  if (kind_message.first == "truncated" || kind_message.first == "corrupt") {
    return absl::DataLossError(message);
  }
  return absl::InternalError(message);
}

}  // namespace moshx::cmd
