#include "cmd/launch/connect_line.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moshx::cmd {
namespace {

constexpr absl::string_view kMoshPrefix = "MOSH CONNECT ";
constexpr absl::string_view kMoshxPrefix = "MOSHX CONNECT ";

absl::StatusOr<uint16_t> ParsePort(absl::string_view text) {
  uint32_t port = 0;
  if (text.empty() || text.size() > 5 || !absl::SimpleAtoi(text, &port) || port == 0 ||
      port > 65535 || text.find_first_not_of("0123456789") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad UDP port '", text.substr(0, 16), "' in CONNECT line"));
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<uint64_t> ParseConnectionId(absl::string_view text) {
  uint64_t id = 0;
  if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != absl::string_view::npos ||
      !absl::SimpleHexAtoi(text, &id)) {
    return absl::InvalidArgumentError("bad connection id in MOSHX CONNECT line");
  }
  return id;
}

}  // namespace

std::string FormatConnectLine(const ConnectInfo& info) {
  if (info.mode == net::WireMode::kMosh) {
    return absl::StrCat(kMoshPrefix, info.port, " ", info.key.ToBase64());
  }
  return absl::StrCat(kMoshxPrefix, info.port, " ", info.key.ToBase64(), " ",
                      absl::StrFormat("%016x", info.connection_id));
}

absl::StatusOr<ConnectInfo> ParseConnectLine(absl::string_view line) {
  line = absl::StripTrailingAsciiWhitespace(line);
  ConnectInfo info;
  if (absl::ConsumePrefix(&line, kMoshPrefix)) {
    info.mode = net::WireMode::kMosh;
  } else if (absl::ConsumePrefix(&line, kMoshxPrefix)) {
    info.mode = net::WireMode::kMoshx;
  } else {
    return absl::NotFoundError("not a CONNECT line");
  }
  std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
  size_t expected = info.mode == net::WireMode::kMosh ? 2 : 3;
  if (words.size() != expected) {
    return absl::InvalidArgumentError("malformed CONNECT line (wrong number of fields)");
  }
  auto port = ParsePort(words[0]);
  if (!port.ok()) return port.status();
  info.port = *port;
  auto key = net::SessionKey::FromBase64(words[1]);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad key in CONNECT line: ", key.status().message()));
  }
  info.key = *key;
  if (info.mode == net::WireMode::kMoshx) {
    auto id = ParseConnectionId(words[2]);
    if (!id.ok()) return id.status();
    info.connection_id = *id;
  }
  return info;
}

StartupOutput ScanStartupOutput(absl::string_view output) {
  StartupOutput result;
  bool found = false;
  for (absl::string_view raw : absl::StrSplit(output, '\n')) {
    // Strip pty artefacts on both ends ("\r\r", leading CRs from the bodge
    // newline mosh-server prints when stdin is a tty).
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty()) continue;
    if (!found) {
      absl::StatusOr<ConnectInfo> info = ParseConnectLine(line);
      if (info.ok()) {
        result.connect = std::move(info);
        found = true;
        continue;
      }
      if (!absl::IsNotFound(info.status())) {
        result.connect = info.status();
        continue;  // a later valid line may still follow
      }
    }
    result.other_lines.emplace_back(line);
  }
  return result;
}

}  // namespace moshx::cmd
