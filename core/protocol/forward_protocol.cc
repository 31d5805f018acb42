#include "core/protocol/forward_protocol.h"

#include <algorithm>

#include "absl/status/status.h"

namespace moshx::protocol {
namespace {

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutU32(std::string* out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}

void PutString(std::string* out, absl::string_view s) {
  s = s.substr(0, 255);
  out->push_back(static_cast<char>(s.size()));
  out->append(s.data(), s.size());
}

std::string Framed(const std::string& body) {
  std::string out;
  PutU16(&out, static_cast<uint16_t>(body.size()));
  return out + body;
}

// A bounds-checked reader over untrusted bytes.
class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  bool U8(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U16(uint16_t* v) {
    uint8_t a, b;
    if (!U8(&a) || !U8(&b)) return false;
    *v = static_cast<uint16_t>(a << 8 | b);
    return true;
  }
  bool U32(uint32_t* v) {
    uint16_t a, b;
    if (!U16(&a) || !U16(&b)) return false;
    *v = static_cast<uint32_t>(a) << 16 | b;
    return true;
  }
  bool String(std::string* s) {
    uint8_t n;
    if (!U8(&n) || in_.size() < n) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  absl::string_view in_;
};

absl::Status Bad(const char* why) { return absl::InvalidArgumentError(why); }

}  // namespace

std::string EncodeOpenRequest(const OpenRequest& r) {
  std::string body;
  body.push_back(static_cast<char>(kProtocolVersion));
  body.push_back(static_cast<char>(r.kind));
  switch (r.kind) {
    case OpenKind::kConnect:
      PutString(&body, r.host);
      PutU16(&body, r.port);
      break;
    case OpenKind::kListen:
      PutString(&body, r.host);
      PutU16(&body, r.port);
      PutU32(&body, r.listener);
      break;
    case OpenKind::kReverse:
      PutU32(&body, r.listener);
      break;
    case OpenKind::kAgent:
    case OpenKind::kAgentListen:
      break;
  }
  return Framed(body);
}

std::string EncodeOpenReply(const OpenReply& r) {
  std::string body;
  body.push_back(static_cast<char>(r.status));
  PutString(&body, r.message);
  return Framed(body);
}

absl::StatusOr<std::optional<std::string>> TakeMessage(std::string* buffer) {
  if (buffer->size() < 2) return std::nullopt;
  size_t n = static_cast<uint8_t>((*buffer)[0]) << 8 | static_cast<uint8_t>((*buffer)[1]);
  if (n == 0 || n > kMaxMessageSize) return Bad("bad forwarding message length");
  if (buffer->size() < 2 + n) return std::nullopt;
  std::string body = buffer->substr(2, n);
  buffer->erase(0, 2 + n);
  return body;
}

absl::StatusOr<OpenRequest> ParseOpenRequest(absl::string_view body) {
  Reader in(body);
  uint8_t version, kind;
  if (!in.U8(&version) || !in.U8(&kind)) return Bad("truncated open request");
  if (version != kProtocolVersion) return Bad("unknown forwarding protocol version");
  OpenRequest r;
  r.kind = static_cast<OpenKind>(kind);
  bool ok;
  switch (r.kind) {
    case OpenKind::kConnect:
      ok = in.String(&r.host) && in.U16(&r.port) && !r.host.empty() && r.port != 0;
      break;
    case OpenKind::kListen:
      ok = in.String(&r.host) && in.U16(&r.port) && in.U32(&r.listener) && r.port != 0;
      break;
    case OpenKind::kReverse:
      ok = in.U32(&r.listener);
      break;
    case OpenKind::kAgent:
    case OpenKind::kAgentListen:
      ok = true;
      break;
    default:
      return Bad("unknown open request kind");
  }
  if (!ok || !in.done()) return Bad("malformed open request");
  if (r.host.find('\0') != std::string::npos) return Bad("NUL in host name");
  return r;
}

absl::StatusOr<OpenReply> ParseOpenReply(absl::string_view body) {
  Reader in(body);
  uint8_t status;
  OpenReply r;
  if (!in.U8(&status) || !in.String(&r.message) || !in.done()) return Bad("malformed open reply");
  if (status > static_cast<uint8_t>(OpenStatus::kTimedOut)) return Bad("unknown open status");
  r.status = static_cast<OpenStatus>(status);
  return r;
}

const char* OpenStatusName(OpenStatus status) {
  switch (status) {
    case OpenStatus::kOk:
      return "ok";
    case OpenStatus::kRefused:
      return "refused by the peer's policy";
    case OpenStatus::kResolveFailed:
      return "name not resolved";
    case OpenStatus::kConnectionRefused:
      return "connection refused";
    case OpenStatus::kUnreachable:
      return "unreachable";
    case OpenStatus::kBindFailed:
      return "cannot listen";
    case OpenStatus::kProtocolError:
      return "protocol error";
    case OpenStatus::kTimedOut:
      return "timed out";
  }
  return "unknown";
}

}  // namespace moshx::protocol
