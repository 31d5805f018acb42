// The server half of a SOCKS5 handshake (RFC 1928) for `moshx connect -D`:
// no authentication, the CONNECT command only, IPv4, IPv6 and domain-name
// targets. Pure: bytes in, bytes out; the caller owns the socket.
//
//   Socks5Handshake h;
//   std::string reply;
//   switch (h.Feed(bytes_from_client, &reply)) {  // send `reply` in any case
//     case kNeedMore: keep reading;
//     case kConnect:  open the stream to h.host():h.port(), then send
//                     Socks5Handshake::Reply(kSucceeded or an error);
//     case kFailed:   close after sending `reply`.
//   }
//
// Input is untrusted (any local program can connect): the handshake fails
// on anything malformed and on a greeting or request longer than
// kMaxBuffered; it holds no more than that plus one Feed() call's bytes. Not
// thread-safe; one object per client connection.
#ifndef MOSHX_CMD_FORWARD_SOCKS5_H_
#define MOSHX_CMD_FORWARD_SOCKS5_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace moshx::cmd::forward {

class Socks5Handshake {
 public:
  enum class State { kNeedMore, kConnect, kFailed };
  // Reply codes (RFC 1928 §6).
  static constexpr uint8_t kSucceeded = 0;
  static constexpr uint8_t kGeneralFailure = 1;
  static constexpr uint8_t kNotAllowed = 2;
  static constexpr uint8_t kNetworkUnreachable = 3;
  static constexpr uint8_t kHostUnreachable = 4;
  static constexpr uint8_t kConnectionRefused = 5;
  static constexpr uint8_t kCommandNotSupported = 7;
  static constexpr uint8_t kAddressTypeNotSupported = 8;
  // A greeting plus the longest request (a 255-byte domain name) fit.
  static constexpr size_t kMaxBuffered = 600;

  // Consumes `bytes`; appends what must go back to the client to `*reply`.
  // After kConnect or kFailed, further calls return the same state and
  // buffer nothing.
  State Feed(absl::string_view bytes, std::string* reply);

  // After kConnect: the target, as a name or a numeric address (IPv6
  // without brackets).
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  // Bytes the client sent after its request (without waiting for the reply).
  std::string TakeRemainder();
  // Why the handshake failed (for the log).
  const std::string& error() const { return error_; }

  // The reply to a CONNECT request (bound address 0.0.0.0:0).
  static std::string Reply(uint8_t code);

 private:
  State Fail(const char* why, std::string* reply, int code);
  State ParseRequest(std::string* reply);

  enum class Stage { kGreeting, kRequest, kDone };
  Stage stage_ = Stage::kGreeting;
  State state_ = State::kNeedMore;
  std::string buffer_;
  std::string host_;
  uint16_t port_ = 0;
  std::string error_;
};

}  // namespace moshx::cmd::forward

#endif  // MOSHX_CMD_FORWARD_SOCKS5_H_
