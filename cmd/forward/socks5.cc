#include "cmd/forward/socks5.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace moshx::cmd::forward {
namespace {
constexpr uint8_t kVersion = 5;
constexpr uint8_t kNoAuthentication = 0;
constexpr uint8_t kNoAcceptableMethod = 0xff;
constexpr uint8_t kConnect = 1;
constexpr uint8_t kIpv4 = 1;
constexpr uint8_t kDomain = 3;
constexpr uint8_t kIpv6 = 4;

uint8_t At(const std::string& s, size_t i) { return static_cast<uint8_t>(s[i]); }
}  // namespace

std::string Socks5Handshake::Reply(uint8_t code) {
  return std::string({static_cast<char>(kVersion), static_cast<char>(code), 0,
                      static_cast<char>(kIpv4), 0, 0, 0, 0, 0, 0});
}

Socks5Handshake::State Socks5Handshake::Fail(const char* why, std::string* reply, int code) {
  error_ = why;
  if (code >= 0) reply->append(Reply(static_cast<uint8_t>(code)));
  stage_ = Stage::kDone;
  buffer_.clear();
  return state_ = State::kFailed;
}

Socks5Handshake::State Socks5Handshake::Feed(absl::string_view bytes, std::string* reply) {
  if (stage_ == Stage::kDone) return state_;
  if (buffer_.size() + bytes.size() > kMaxBuffered && stage_ != Stage::kRequest) {
    return Fail("greeting too long", reply, -1);
  }
  buffer_.append(bytes.data(), bytes.size());  // bounded: greeting checked above, request below
  if (stage_ == Stage::kGreeting) {
    if (buffer_.size() < 2) return state_;
    if (At(buffer_, 0) != kVersion) return Fail("not SOCKS version 5", reply, -1);
    size_t methods = At(buffer_, 1);
    if (buffer_.size() < 2 + methods) return state_;
    bool no_auth = false;
    for (size_t i = 0; i < methods; ++i) no_auth = no_auth || At(buffer_, 2 + i) == kNoAuthentication;
    if (!no_auth) {
      reply->append({static_cast<char>(kVersion), static_cast<char>(kNoAcceptableMethod)});
      return Fail("client offers no method without authentication", reply, -1);
    }
    reply->append({static_cast<char>(kVersion), static_cast<char>(kNoAuthentication)});
    buffer_.erase(0, 2 + methods);
    stage_ = Stage::kRequest;
  }
  return ParseRequest(reply);
}

Socks5Handshake::State Socks5Handshake::ParseRequest(std::string* reply) {
  if (buffer_.size() < 5) return state_;
  if (At(buffer_, 0) != kVersion) return Fail("bad request version", reply, kGeneralFailure);
  if (At(buffer_, 1) != kConnect) {
    return Fail("only CONNECT is supported", reply, kCommandNotSupported);
  }
  size_t address_length;
  switch (At(buffer_, 3)) {
    case kIpv4:
      address_length = 4;
      break;
    case kIpv6:
      address_length = 16;
      break;
    case kDomain:
      address_length = 1 + At(buffer_, 4);
      if (At(buffer_, 4) == 0) return Fail("empty domain name", reply, kGeneralFailure);
      break;
    default:
      return Fail("unknown address type", reply, kAddressTypeNotSupported);
  }
  size_t total = 4 + address_length + 2;
  if (buffer_.size() < total) {
    if (buffer_.size() > kMaxBuffered) return Fail("request too long", reply, kGeneralFailure);
    return state_;
  }
  const char* address = buffer_.data() + 4;
  char text[INET6_ADDRSTRLEN];
  switch (At(buffer_, 3)) {
    case kIpv4:
      host_ = inet_ntop(AF_INET, address, text, sizeof text) ? text : "";
      break;
    case kIpv6:
      host_ = inet_ntop(AF_INET6, address, text, sizeof text) ? text : "";
      break;
    default:
      host_.assign(address + 1, address_length - 1);
      if (host_.find('\0') != std::string::npos) {
        return Fail("NUL in domain name", reply, kGeneralFailure);
      }
  }
  port_ = static_cast<uint16_t>(At(buffer_, 4 + address_length) << 8 |
                                At(buffer_, 5 + address_length));
  if (host_.empty() || port_ == 0) return Fail("bad target", reply, kGeneralFailure);
  buffer_.erase(0, total);
  stage_ = Stage::kDone;
  return state_ = State::kConnect;
}

std::string Socks5Handshake::TakeRemainder() {
  std::string out;
  out.swap(buffer_);
  return out;
}

}  // namespace moshx::cmd::forward
