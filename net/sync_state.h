// The state contract of SSP: what Transport<LocalState, RemoteState> needs
// from the two synchronized states (docs/protocol.md §6.3, §7).
//
// A state type S is a copyable value (each side keeps copies: every sent
// state until acknowledged, every received state until thrown away) with:
//
//   std::string S::DiffFrom(const S& reference) const;
//       The bytes that turn `reference` into *this. Empty exactly when the
//       two states are equal (an empty diff is how SSP says "nothing new":
//       heartbeats and pure acks carry empty diffs). In mosh mode these are
//       the serialized UserMessage/HostMessage of docs/protocol.md §7.1/§7.2.
//   absl::Status S::ApplyDiff(absl::string_view diff);
//       Applies a diff produced by DiffFrom(x) to a copy of x. Bytes come
//       from the network after authentication, but may still be from a buggy
//       or hostile peer: a malformed diff returns an error (the transport
//       counts and drops the instruction) and must not crash. On error the
//       state may be partially modified; the transport discards that copy.
//   std::string S::InitDiff() const;
//       DiffFrom(the initial state): a full description of *this, for
//       callers that need to ship a complete state (not used by the
//       transport's own algorithm).
//   void S::Subtract(const S& prefix);
//       `prefix` is this state or an earlier state of the same sender. Drops
//       from *this what `prefix` already contains, so append-only states
//       (the user's keystroke stream) do not grow forever. Must keep
//       DiffFrom consistent: for states a, b both subtracted by the same
//       prefix, a.DiffFrom(b) equals the diff of the originals. A no-op is
//       a valid implementation for states that are not append-only.
//   bool operator==(const S&, const S&);
//       Equality of the synchronized content (the transport compares the
//       current state with sent states to decide whether to send).
//
// Optionally, for states a peer can make large (the user stream):
//
//   size_t S::held_bytes() const;
//       About how much memory this copy holds. The receiver keeps the held
//       copies within Transport::kMaxReceivedBytes (docs/security.md §5).
//
// The initial state (state number 0) is whatever the Transport is
// constructed with; both sides must construct equal initial states.
//
// IsSyncState<S> checks the signatures at compile time; Transport
// static_asserts it so a type that misses part of the contract fails with
// one clear message.
#ifndef MOSHX_NET_SYNC_STATE_H_
#define MOSHX_NET_SYNC_STATE_H_

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace moshx::net {
namespace sync_state_internal {

template <typename S, typename = void>
struct HasContract : std::false_type {};

// S::held_bytes(), or 0 for types without it.
template <typename S, typename = void>
struct HeldBytes {
  static size_t Of(const S&) { return 0; }
};
template <typename S>
struct HeldBytes<S, std::void_t<decltype(std::declval<const S&>().held_bytes())>> {
  static size_t Of(const S& s) { return s.held_bytes(); }
};

template <typename S>
struct HasContract<
    S, std::void_t<
           decltype(std::declval<const S&>().DiffFrom(std::declval<const S&>())),
           decltype(std::declval<S&>().ApplyDiff(std::declval<absl::string_view>())),
           decltype(std::declval<const S&>().InitDiff()),
           decltype(std::declval<S&>().Subtract(std::declval<const S&>())),
           decltype(std::declval<const S&>() == std::declval<const S&>())>>
    : std::integral_constant<
          bool,
          std::is_same_v<decltype(std::declval<const S&>().DiffFrom(
                             std::declval<const S&>())),
                         std::string> &&
              std::is_same_v<decltype(std::declval<S&>().ApplyDiff(
                                 std::declval<absl::string_view>())),
                             absl::Status> &&
              std::is_same_v<decltype(std::declval<const S&>().InitDiff()),
                             std::string> &&
              std::is_convertible_v<decltype(std::declval<const S&>() ==
                                             std::declval<const S&>()),
                                    bool> &&
              std::is_copy_constructible_v<S> && std::is_copy_assignable_v<S>> {};

}  // namespace sync_state_internal

template <typename S>
inline constexpr bool IsSyncState = sync_state_internal::HasContract<S>::value;

}  // namespace moshx::net

#endif  // MOSHX_NET_SYNC_STATE_H_
