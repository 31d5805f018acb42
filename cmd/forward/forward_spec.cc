#include "cmd/forward/forward_spec.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd::forward {
namespace {

const char* Flag(ForwardKind kind) {
  switch (kind) {
    case ForwardKind::kLocal:
      return "-L";
    case ForwardKind::kRemote:
      return "-R";
    case ForwardKind::kDynamic:
      return "-D";
  }
  return "?";
}

// Splits on ':' outside brackets; a bracketed field loses its brackets.
absl::StatusOr<std::vector<std::string>> Split(absl::string_view text) {
  std::vector<std::string> fields(1);
  bool bracket = false;
  for (char c : text) {
    if (c == '[' && !bracket && fields.back().empty()) {
      bracket = true;
    } else if (c == ']' && bracket) {
      bracket = false;
    } else if (c == ':' && !bracket) {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  if (bracket) return absl::InvalidArgumentError("unclosed '['");
  return fields;
}

absl::StatusOr<uint16_t> Port(absl::string_view field, absl::string_view what) {
  uint32_t port;
  if (field.empty()) return absl::InvalidArgumentError(absl::StrCat("missing ", what));
  if (!absl::SimpleAtoi(field, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad ", what, " '", field, "' (1-65535)"));
  }
  return static_cast<uint16_t>(port);
}

std::string Bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
}

absl::Status Fill(ForwardKind kind, const std::vector<std::string>& f, ForwardSpec* spec) {
  size_t want = kind == ForwardKind::kDynamic ? 1 : 3;
  if (f.size() != want && f.size() != want + 1) {
    return absl::InvalidArgumentError(kind == ForwardKind::kDynamic
                                          ? "expected [bind:]port"
                                          : "expected [bind:]port:host:hostport");
  }
  size_t i = 0;
  spec->bind_address = "localhost";
  if (f.size() == want + 1) {
    spec->bind_address = f[i].empty() ? "*" : f[i];
    ++i;
  }
  auto port = Port(f[i++], "port");
  if (!port.ok()) return port.status();
  spec->port = *port;
  if (kind == ForwardKind::kDynamic) return absl::OkStatus();
  spec->host = f[i++];
  if (spec->host.empty()) return absl::InvalidArgumentError("missing host");
  auto host_port = Port(f[i], "host port");
  if (!host_port.ok()) return host_port.status();
  spec->host_port = *host_port;
  return absl::OkStatus();
}

}  // namespace

std::string ForwardSpec::ToString() const {
  std::string out = absl::StrCat(Flag(kind), " ", Bracketed(bind_address), ":", port);
  if (kind != ForwardKind::kDynamic) absl::StrAppend(&out, ":", Bracketed(host), ":", host_port);
  return out;
}

absl::StatusOr<ForwardSpec> ParseForwardSpec(ForwardKind kind, absl::string_view text) {
  ForwardSpec spec;
  spec.kind = kind;
  absl::StatusOr<std::vector<std::string>> fields = Split(text);
  absl::Status status = fields.ok() ? Fill(kind, *fields, &spec) : fields.status();
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Flag(kind), " ", text, ": ", status.message()));
  }
  return spec;
}

}  // namespace moshx::cmd::forward
