#include "net/fragment.h"

#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "net/status_macros.h"
#include "openssl/bytestring.h"

namespace moshx::net {
namespace {

absl::Status Contradiction(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

}  // namespace

std::string Fragment::Encode() const {
  ABSL_RAW_CHECK(number <= kMaxFragmentNumber, "fragment number out of range");
  std::string out(kFragmentHeaderSize + contents.size(), '\0');
  CBB cbb;
  CBB_init_fixed(&cbb, reinterpret_cast<uint8_t*>(out.data()), out.size());
  uint16_t number_field = number | (final ? kFragmentFinalBit : 0);
  bool ok = CBB_add_u64(&cbb, id) && CBB_add_u16(&cbb, number_field) &&
            CBB_add_bytes(&cbb, reinterpret_cast<const uint8_t*>(contents.data()),
                          contents.size());
  ABSL_RAW_CHECK(ok && CBB_len(&cbb) == out.size(), "fragment encoding overflow");
  CBB_cleanup(&cbb);
  return out;
}

absl::StatusOr<Fragment> Fragment::Decode(absl::string_view payload) {
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  Fragment f;
  uint16_t number_field;
  if (!CBS_get_u64(&cbs, &f.id) || !CBS_get_u16(&cbs, &number_field)) {
    return absl::InvalidArgumentError("fragment shorter than its header");
  }
  f.final = (number_field & kFragmentFinalBit) != 0;
  f.number = number_field & kMaxFragmentNumber;
  f.contents.assign(reinterpret_cast<const char*>(CBS_data(&cbs)), CBS_len(&cbs));
  return f;
}

bool Fragmenter::SameAsLast(const Instruction& in, size_t max_contents) const {
  return have_last_ && max_contents == last_max_contents_ &&
         in.protocol_version == last_.protocol_version && in.old_num == last_.old_num &&
         in.new_num == last_.new_num && in.ack_num == last_.ack_num &&
         in.throwaway_num == last_.throwaway_num && in.chaff == last_.chaff;
}

absl::StatusOr<std::vector<std::string>> Fragmenter::MakeFragments(
    const Instruction& instruction, size_t max_contents) {
  if (max_contents == 0) return absl::InvalidArgumentError("MTU too small for a fragment");
  MOSHX_NET_ASSIGN_OR_RETURN(std::string compressed,
                             compressor_->Compress(instruction.Serialize()));
  size_t count = (compressed.size() + max_contents - 1) / max_contents;
  if (count == 0) count = 1;
  if (count > size_t{kMaxFragmentNumber} + 1) {
    return absl::ResourceExhaustedError("instruction needs too many fragments");
  }
  if (!SameAsLast(instruction, max_contents)) ++next_id_;
  have_last_ = true;
  last_ = instruction;
  last_.diff.clear();
  last_max_contents_ = max_contents;

  std::vector<std::string> out;
  out.reserve(count);
  absl::string_view rest(compressed);
  for (size_t k = 0; k < count; ++k) {
    Fragment f;
    f.id = next_id_;
    f.number = static_cast<uint16_t>(k);
    f.final = k + 1 == count;
    f.contents = std::string(rest.substr(0, max_contents));
    rest.remove_prefix(std::min(rest.size(), max_contents));
    out.push_back(f.Encode());
  }
  return out;
}

void FragmentAssembler::Reset(uint64_t id) {
  have_id_ = true;
  current_id_ = id;
  slots_.clear();
  total_.reset();
  tracked_bytes_ = 0;
}

absl::Status FragmentAssembler::Store(Fragment f) {
  auto it = slots_.find(f.number);
  if (it != slots_.end()) {
    if (it->second != f.contents) return Contradiction("duplicate fragment differs");
  } else if (total_ && f.number >= *total_) {
    return Contradiction("fragment beyond the final one");
  }
  if (f.final) {
    uint32_t total = uint32_t{f.number} + 1;
    if (total_ && *total_ != total) return Contradiction("two different final fragments");
    if (!slots_.empty() && slots_.rbegin()->first >= total) {
      return Contradiction("final fragment precedes a stored fragment");
    }
    total_ = total;
  }
  if (it != slots_.end()) return absl::OkStatus();  // identical duplicate
  size_t cost = f.contents.size() + kPerFragmentOverhead;
  if (tracked_bytes_ + cost > kMaxTrackedBytes) {
    Reset(current_id_);
    return absl::ResourceExhaustedError("fragment assembly exceeds size limit");
  }
  tracked_bytes_ += cost;
  slots_.emplace(f.number, std::move(f.contents));
  return absl::OkStatus();
}

absl::StatusOr<Instruction> FragmentAssembler::Finish() {
  std::string compressed;
  compressed.reserve(tracked_bytes_);
  for (const auto& slot : slots_) compressed += slot.second;
  Reset(current_id_);
  MOSHX_NET_ASSIGN_OR_RETURN(std::string serialized,
                             compressor_->Decompress(compressed, kMaxInstructionSize));
  MOSHX_NET_ASSIGN_OR_RETURN(Instruction instruction, Instruction::Parse(serialized));
  MOSHX_NET_RETURN_IF_ERROR(instruction.CheckProtocolVersion());
  return instruction;
}

absl::StatusOr<std::optional<Instruction>> FragmentAssembler::Add(absl::string_view payload) {
  MOSHX_NET_ASSIGN_OR_RETURN(Fragment f, Fragment::Decode(payload));
  if (!have_id_ || f.id != current_id_) Reset(f.id);
  MOSHX_NET_RETURN_IF_ERROR(Store(std::move(f)));
  if (!total_ || slots_.size() != *total_) return std::optional<Instruction>();
  MOSHX_NET_ASSIGN_OR_RETURN(Instruction instruction, Finish());
  return std::optional<Instruction>(std::move(instruction));
}

}  // namespace moshx::net
