#include "net/wire_format.h"

#include "absl/strings/str_cat.h"

namespace moshx::net {
namespace {

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed protobuf: ", what));
}

absl::string_view View(const CBS& cbs) {
  return absl::string_view(reinterpret_cast<const char*>(CBS_data(&cbs)), CBS_len(&cbs));
}

}  // namespace

bool ReadVarint(CBS* cbs, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarintSize; ++i) {
    uint8_t byte;
    if (!CBS_get_u8(cbs, &byte)) return false;
    // The 10th byte may only contribute bit 63.
    if (i == kMaxVarintSize - 1 && (byte & 0xFE) != 0) return false;
    result |= uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

ProtoReader::ProtoReader(absl::string_view data) {
  CBS_init(&cbs_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

absl::Status ProtoReader::Next(ProtoField* field) {
  CBS start = cbs_;
  uint64_t key;
  if (!ReadVarint(&cbs_, &key)) return Malformed("truncated or over-long key");
  uint64_t number = key >> 3;
  if (number == 0 || number > kMaxFieldNumber) return Malformed("bad field number");
  field->number = static_cast<uint32_t>(number);
  field->bytes = absl::string_view();
  field->varint = 0;
  switch (key & 7) {
    case 0:
      field->type = WireType::kVarint;
      if (!ReadVarint(&cbs_, &field->varint)) return Malformed("truncated or over-long varint");
      break;
    case 1:
      field->type = WireType::kFixed64;
      if (!CBS_get_u64le(&cbs_, &field->varint)) return Malformed("truncated fixed64");
      break;
    case 2: {
      field->type = WireType::kLengthDelimited;
      uint64_t len;
      CBS payload;
      if (!ReadVarint(&cbs_, &len)) return Malformed("truncated length");
      if (len > CBS_len(&cbs_) || !CBS_get_bytes(&cbs_, &payload, len)) {
        return Malformed("length past end of message");
      }
      field->bytes = View(payload);
      break;
    }
    case 5: {
      field->type = WireType::kFixed32;
      uint32_t v;
      if (!CBS_get_u32le(&cbs_, &v)) return Malformed("truncated fixed32");
      field->varint = v;
      break;
    }
    default:
      return Malformed("unsupported wire type");
  }
  field->raw = View(start).substr(0, CBS_len(&start) - CBS_len(&cbs_));
  return absl::OkStatus();
}

void AppendVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendVarintField(std::string* out, uint32_t number, uint64_t value) {
  AppendVarint(out, uint64_t{number} << 3 | static_cast<uint8_t>(WireType::kVarint));
  AppendVarint(out, value);
}

void AppendBytesField(std::string* out, uint32_t number, absl::string_view bytes) {
  AppendVarint(out, uint64_t{number} << 3 | static_cast<uint8_t>(WireType::kLengthDelimited));
  AppendVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

absl::Status ExpectWireType(const ProtoField& field, WireType want) {
  if (field.type == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("malformed protobuf: wrong wire type for field ", field.number));
}

}  // namespace moshx::net
