// The transport fragment layer (docs/protocol.md §5): an Instruction is
// serialized, compressed and cut into fragments, each the payload of one
// datagram; the receiver reassembles one instruction at a time.
//
// Layout (net/packet_format.h): id (u64 BE) | final bit + number (u16 BE) |
// slice of the compressed instruction.
//
// Thread-safety: none of these classes are thread-safe; each belongs to one
// Connection/Transport on one thread.
#ifndef MOSHX_NET_FRAGMENT_H_
#define MOSHX_NET_FRAGMENT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/compressor.h"
#include "net/instruction.h"
#include "net/packet_format.h"

namespace moshx::net {

// One fragment as it appears in a datagram payload.
struct Fragment {
  uint64_t id = 0;
  uint16_t number = 0;  // <= kMaxFragmentNumber
  bool final = false;
  std::string contents;

  // Precondition (checked): number <= kMaxFragmentNumber.
  std::string Encode() const;
  // InvalidArgument when shorter than the 10-byte header. Any number/final
  // combination is syntactically valid.
  static absl::StatusOr<Fragment> Decode(absl::string_view payload);

  friend bool operator==(const Fragment& a, const Fragment& b) {
    return a.id == b.id && a.number == b.number && a.final == b.final &&
           a.contents == b.contents;
  }
};

// Sender side. Keeps mosh's instruction-id rule: the id (starting at 0, so
// the first instruction gets 1) is incremented whenever the instruction
// differs from the previous one in protocol_version, old_num, new_num,
// ack_num, throwaway_num or chaff, or the fragment size changed; an
// identical retransmission reuses the id.
class Fragmenter {
 public:
  // `compressor` is not owned and must outlive the Fragmenter.
  explicit Fragmenter(Compressor* compressor) : compressor_(compressor) {}

  // Serializes, compresses and splits `instruction` into encoded fragments of
  // at most `max_contents` compressed bytes each (use MaxFragmentContents()
  // of the datagram MTU). Each string is one Packet payload; send them
  // back-to-back. InvalidArgument if max_contents == 0; ResourceExhausted if
  // more than 32768 fragments would be needed.
  absl::StatusOr<std::vector<std::string>> MakeFragments(const Instruction& instruction,
                                                         size_t max_contents);

  // Id used by the last MakeFragments call (0 before the first).
  uint64_t last_id() const { return next_id_; }

 private:
  bool SameAsLast(const Instruction& instruction, size_t max_contents) const;

  Compressor* compressor_;
  uint64_t next_id_ = 0;
  bool have_last_ = false;
  Instruction last_;  // diff not kept: same old/new implies same diff
  size_t last_max_contents_ = 0;
};

// Receiver side: holds at most one partial instruction. A fragment with a
// different id (older or newer) discards everything held and starts over,
// like mosh, so memory is bounded by one assembly no matter how many fresh
// ids arrive; one assembly is capped at kMaxTrackedBytes.
//
// Add() results:
//   * ok + nullopt: fragment stored (or harmless duplicate), not complete.
//   * ok + Instruction: the instruction is complete, decompressed, parsed and
//     its protocol_version checked; slots are cleared (the id is kept).
//   * error: the fragment (or the completed instruction) is dropped —
//     InvalidArgument for a truncated fragment, a duplicate slot with
//     different bytes, a final flag contradicting stored fragments, or a
//     corrupt compressed/protobuf instruction or wrong protocol version;
//     ResourceExhausted when the assembly would exceed kMaxTrackedBytes or the
//     decompressed instruction kMaxInstructionSize. Contradictory fragments
//     leave the current assembly as it was; size overflows and corrupt
//     completed instructions reset it.
class FragmentAssembler {
 public:
  // Per-assembly cap: 4 MiB of compressed data plus slack (no legitimate
  // sender produces more, since the decompressed size is capped at 4 MiB).
  static constexpr size_t kMaxTrackedBytes = kMaxInstructionSize + 64 * 1024;
  // Bookkeeping charged per stored fragment on top of its contents.
  static constexpr size_t kPerFragmentOverhead = 64;

  // `compressor` is not owned and must outlive the assembler.
  explicit FragmentAssembler(Compressor* compressor) : compressor_(compressor) {}

  absl::StatusOr<std::optional<Instruction>> Add(absl::string_view payload);

  // Bytes currently held (contents + kPerFragmentOverhead per fragment).
  size_t tracked_bytes() const { return tracked_bytes_; }
  // Fragments currently held.
  size_t held_fragments() const { return slots_.size(); }

 private:
  absl::Status Store(Fragment fragment);
  absl::StatusOr<Instruction> Finish();
  void Reset(uint64_t id);

  Compressor* compressor_;
  bool have_id_ = false;
  uint64_t current_id_ = 0;
  std::map<uint16_t, std::string> slots_;
  std::optional<uint32_t> total_;  // fragment count once the final one is seen
  size_t tracked_bytes_ = 0;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_FRAGMENT_H_
