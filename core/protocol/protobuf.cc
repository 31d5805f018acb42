#include "core/protocol/protobuf.h"

#include "absl/strings/str_cat.h"

namespace moshx::protocol {
namespace {

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed protobuf: ", what));
}

// Removes `n` little-endian bytes from the front of *in into *value.
bool ReadLittleEndian(absl::string_view* in, size_t n, uint64_t* value) {
  if (in->size() < n) return false;
  uint64_t result = 0;
  for (size_t i = 0; i < n; ++i) result |= uint64_t{static_cast<uint8_t>((*in)[i])} << (8 * i);
  in->remove_prefix(n);
  *value = result;
  return true;
}

}  // namespace

bool ReadVarint(absl::string_view* in, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarintSize; ++i) {
    if (in->empty()) return false;
    const uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
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

absl::Status ProtoReader::Next(ProtoField* field) {
  const absl::string_view start = rest_;
  uint64_t key;
  if (!ReadVarint(&rest_, &key)) return Malformed("truncated or over-long key");
  const uint64_t number = key >> 3;
  if (number == 0 || number > kMaxFieldNumber) return Malformed("bad field number");
  field->number = static_cast<uint32_t>(number);
  field->bytes = absl::string_view();
  field->varint = 0;
  switch (key & 7) {
    case 0:
      field->type = WireType::kVarint;
      if (!ReadVarint(&rest_, &field->varint)) return Malformed("truncated or over-long varint");
      break;
    case 1:
      field->type = WireType::kFixed64;
      if (!ReadLittleEndian(&rest_, 8, &field->varint)) return Malformed("truncated fixed64");
      break;
    case 2: {
      field->type = WireType::kLengthDelimited;
      uint64_t len;
      if (!ReadVarint(&rest_, &len)) return Malformed("truncated length");
      if (len > rest_.size()) return Malformed("length past end of message");
      field->bytes = rest_.substr(0, len);
      rest_.remove_prefix(len);
      break;
    }
    case 5:
      field->type = WireType::kFixed32;
      if (!ReadLittleEndian(&rest_, 4, &field->varint)) return Malformed("truncated fixed32");
      break;
    default:
      return Malformed("unsupported wire type");
  }
  field->raw = start.substr(0, start.size() - rest_.size());
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

}  // namespace moshx::protocol
