#include "cmd/host/control_message.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd {
namespace {

constexpr absl::string_view kMagic = "MXC1";

void PutBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t GetBigEndian(absl::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes) value = value << 8 | static_cast<uint8_t>(c);
  return value;
}

}  // namespace

absl::StatusOr<std::string> EncodeControlMessage(const ControlMessage& message) {
  const size_t count = message.fields.size() + 1;
  if (count > kMaxFields) {
    return absl::InvalidArgumentError(
        absl::StrCat("control message with ", count, " fields (at most ", kMaxFields, ")"));
  }
  size_t size = kMagic.size() + 2 + 4 + message.verb.size();
  for (const std::string& f : message.fields) size += 4 + f.size();
  if (size > kMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat("control message of ", size,
                                                   " bytes (at most ", kMaxMessageSize, ")"));
  }
  std::string out;
  out.reserve(size);
  out.append(kMagic.data(), kMagic.size());
  PutBigEndian(count, 2, &out);
  PutBigEndian(message.verb.size(), 4, &out);
  out += message.verb;
  for (const std::string& f : message.fields) {
    PutBigEndian(f.size(), 4, &out);
    out += f;
  }
  return out;
}

absl::StatusOr<ControlMessage> ParseControlMessage(absl::string_view bytes) {
  if (bytes.size() > kMaxMessageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("control message of ", bytes.size(), " bytes (at most ", kMaxMessageSize, ")"));
  }
  if (bytes.size() < kMagic.size() + 2 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError("not a moshx control message (bad magic)");
  }
  bytes.remove_prefix(kMagic.size());
  const uint64_t count = GetBigEndian(bytes.substr(0, 2));
  bytes.remove_prefix(2);
  if (count == 0 || count > kMaxFields) {
    return absl::InvalidArgumentError(
        absl::StrCat("control message with ", count, " fields (1 to ", kMaxFields, ")"));
  }
  ControlMessage message;
  for (uint64_t i = 0; i < count; ++i) {
    if (bytes.size() < 4) {
      return absl::InvalidArgumentError(absl::StrCat("control message truncated in field ", i));
    }
    const uint64_t length = GetBigEndian(bytes.substr(0, 4));
    bytes.remove_prefix(4);
    if (length > bytes.size()) {
      return absl::InvalidArgumentError(absl::StrCat("control message field ", i, " claims ",
                                                     length, " bytes, ", bytes.size(), " left"));
    }
    std::string field(bytes.substr(0, length));
    bytes.remove_prefix(length);
    if (i == 0) {
      message.verb = std::move(field);
    } else {
      message.fields.push_back(std::move(field));
    }
  }
  if (!bytes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("control message has ", bytes.size(), " bytes after its last field"));
  }
  return message;
}

std::optional<std::string> FindField(const ControlMessage& message, absl::string_view key) {
  for (const std::string& f : message.fields) {
    absl::string_view v = f;
    if (absl::ConsumePrefix(&v, key) && absl::ConsumePrefix(&v, "=")) return std::string(v);
  }
  return std::nullopt;
}

std::vector<std::string> FindFields(const ControlMessage& message, absl::string_view key) {
  std::vector<std::string> out;
  for (const std::string& f : message.fields) {
    absl::string_view v = f;
    if (absl::ConsumePrefix(&v, key) && absl::ConsumePrefix(&v, "=")) out.emplace_back(v);
  }
  return out;
}

std::string Field(absl::string_view key, absl::string_view value) {
  return absl::StrCat(key, "=", value);
}

ControlMessage ErrorReply(const absl::Status& status) {
  return {"error",
          {absl::AsciiStrToLower(absl::StatusCodeToString(status.code())),
           std::string(status.message())}};
}

absl::Status ReplyStatus(const ControlMessage& reply) {
  if (reply.verb == "ok") return absl::OkStatus();
  if (reply.verb != "error" || reply.fields.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected answer '", reply.verb, "'"));
  }
  for (int code = 1; code <= 16; ++code) {
    const auto c = static_cast<absl::StatusCode>(code);
    if (absl::AsciiStrToLower(absl::StatusCodeToString(c)) == reply.fields[0]) {
      return absl::Status(c, reply.fields[1]);
    }
  }
  return absl::UnknownError(reply.fields[1]);
}

}  // namespace moshx::cmd
