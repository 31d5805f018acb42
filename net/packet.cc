#include "net/packet.h"

#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "net/gcm_aes128.h"
#include "net/ocb_aes128.h"
#include "openssl/bytestring.h"

namespace moshx::net {
namespace {

constexpr char kIntegrityMessage[] = "Packet failed integrity check.";

absl::string_view View(const CBS& cbs) {
  return absl::string_view(reinterpret_cast<const char*>(CBS_data(&cbs)), CBS_len(&cbs));
}

void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

}  // namespace

uint64_t MakeNonceValue(Direction direction, uint64_t seq) {
  return (direction == Direction::kToClient ? kDirectionBit : 0) | (seq & kSeqMask);
}

AeadNonce MakeAeadNonce(uint64_t nonce_value) {
  AeadNonce nonce{};
  for (int i = 0; i < 8; ++i) {
    nonce[kAeadNoncePrefixSize + i] = static_cast<uint8_t>(nonce_value >> (56 - 8 * i));
  }
  return nonce;
}

std::string EncodePlaintext(uint16_t timestamp, uint16_t timestamp_reply,
                            absl::string_view payload) {
  std::string out;
  out.reserve(kTimestampsSize + payload.size());
  out.push_back(static_cast<char>(timestamp >> 8));
  out.push_back(static_cast<char>(timestamp));
  out.push_back(static_cast<char>(timestamp_reply >> 8));
  out.push_back(static_cast<char>(timestamp_reply));
  out.append(payload.data(), payload.size());
  return out;
}

absl::Status DecodePlaintext(absl::string_view plaintext, Packet* packet) {
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size());
  if (!CBS_get_u16(&cbs, &packet->timestamp) || !CBS_get_u16(&cbs, &packet->timestamp_reply)) {
    return absl::InvalidArgumentError("plaintext shorter than its timestamps");
  }
  packet->payload = std::string(View(cbs));
  return absl::OkStatus();
}

bool IsAuthenticationFailure(const absl::Status& status) {
  return status.code() == absl::StatusCode::kDataLoss;
}

PacketCodec PacketCodec::Mosh(const SessionKey& key) {
  return PacketCodec(WireMode::kMosh, std::make_unique<OcbAes128>(key));
}

PacketCodec PacketCodec::Moshx(const SessionKey& key, uint64_t connection_id) {
  return PacketCodec(WireMode::kMoshx, std::make_unique<GcmAes128>(key), connection_id);
}

PacketCodec::PacketCodec(WireMode mode, std::unique_ptr<Aead> aead, uint64_t connection_id)
    : mode_(mode), aead_(std::move(aead)), connection_id_(connection_id) {
  ABSL_RAW_CHECK(aead_ != nullptr, "PacketCodec needs an AEAD");
}

std::string PacketCodec::Seal(const Packet& packet) const {
  ABSL_RAW_CHECK(packet.seq <= kSeqMask, "sequence number exceeds 63 bits");
  uint64_t n = MakeNonceValue(packet.direction, packet.seq);
  std::string out;
  out.reserve(overhead() + packet.payload.size());
  if (mode_ == WireMode::kMoshx) AppendU64(&out, connection_id_);
  AppendU64(&out, n);
  // moshx authenticates the connection id; mosh uses no associated data.
  absl::string_view ad = absl::string_view(out).substr(0, HeaderSize(mode_) - kNonceFieldSize);
  std::string sealed;
  aead_->Seal(MakeAeadNonce(n), ad,
              EncodePlaintext(packet.timestamp, packet.timestamp_reply, packet.payload), &sealed);
  return out + sealed;
}

absl::StatusOr<uint64_t> PacketCodec::PeekConnectionId(absl::string_view datagram) {
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(datagram.data()), datagram.size());
  uint64_t id = 0;
  if (!CBS_get_u64(&cbs, &id)) return absl::InvalidArgumentError("datagram too short");
  return id;
}

absl::StatusOr<Packet> PacketCodec::Open(absl::string_view datagram, Direction expected) const {
  if (datagram.size() > kMaxDatagramSize) return absl::InvalidArgumentError("oversize datagram");
  if (datagram.size() < HeaderSize(mode_) + kTagSize) {
    return absl::InvalidArgumentError("Ciphertext must contain nonce and tag.");
  }
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(datagram.data()), datagram.size());
  uint64_t connection_id = 0, n = 0;
  if (mode_ == WireMode::kMoshx && !CBS_get_u64(&cbs, &connection_id)) {
    return absl::InvalidArgumentError("datagram too short");
  }
  if (!CBS_get_u64(&cbs, &n)) return absl::InvalidArgumentError("datagram too short");
  if (mode_ == WireMode::kMoshx && connection_id != connection_id_) {
    return absl::NotFoundError("unknown connection id");
  }
  absl::string_view ad = datagram.substr(0, HeaderSize(mode_) - kNonceFieldSize);
  std::string plaintext;
  if (!aead_->Open(MakeAeadNonce(n), ad, View(cbs), &plaintext)) {
    return absl::DataLossError(kIntegrityMessage);
  }
  Packet packet;
  packet.direction = (n & kDirectionBit) ? Direction::kToClient : Direction::kToServer;
  packet.seq = n & kSeqMask;
  if (packet.direction != expected) {
    return absl::PermissionDeniedError("Illegal counterparty input (wrong direction)");
  }
  if (absl::Status s = DecodePlaintext(plaintext, &packet); !s.ok()) return s;
  return packet;
}

}  // namespace moshx::net
