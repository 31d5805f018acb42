// Fuzzes the transport's receive path with *authentic* but hostile input:
// the fuzzer knows the key, so its bytes get past decryption and reach the
// fragment assembler, the Instruction parser and the SSP receiver (state
// numbers, acks, throwaway numbers, diffs). The server transport must count
// and drop whatever is wrong — never crash, never hold unbounded state.
//
// Input: a sequence of records. Record = 1 control byte c, then:
//   c & 1 == 0: an Instruction: old, new, ack, throwaway as one byte each
//               (0xFF = U64MAX), one length byte n, n diff bytes;
//   c & 1 == 1: one length byte n, n raw bytes used as a fragment payload.
// After each record virtual time advances by (c >> 1) ms.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "net/compressor.h"
#include "net/fragment.h"
#include "net/packet.h"
#include "net/testing/counter_state.h"
#include "net/testing/simulated_network.h"
#include "net/transport.h"

namespace {

using moshx::net::Address;
using moshx::net::SessionKey;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ == end_; }
  uint8_t Byte() { return p_ == end_ ? 0 : *p_++; }
  std::string Bytes(size_t n) {
    n = std::min<size_t>(n, end_ - p_);
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  uint64_t Num() {
    uint8_t b = Byte();
    return b == 0xFF ? ~uint64_t{0} : b;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace moshx::net;
  std::array<uint8_t, 16> key_bytes{};
  key_bytes.fill(0x11);
  SessionKey key(key_bytes);
  testing::SimulatedNetwork net(1);
  auto* server_host = net.AddHost("10.0.0.2");
  std::mt19937_64 rng(1);
  auto server = Transport<testing::CounterState, testing::CounterState>::Create(
      {&net, &net, *server_host->Bind(60001), nullptr, absl::BitGenRef(rng)}, key,
      {Role::kServer, WireMode::kMosh, 0, std::nullopt, std::nullopt});
  if (!server.ok()) std::abort();
  PacketCodec codec = PacketCodec::Mosh(key);
  auto compressor = NewCompressor(WireMode::kMosh);
  Fragmenter fragmenter(compressor.get());
  Address from = *Address::Parse("10.0.0.1", 40000);
  Address to = server_host->ip().WithPort(60001);
  uint64_t seq = 0;
  Input in(data, size);
  uint64_t newest = 0;
  while (!in.empty()) {
    uint8_t c = in.Byte();
    std::vector<std::string> payloads;
    if ((c & 1) == 0) {
      Instruction inst;
      inst.old_num = in.Num();
      inst.new_num = in.Num();
      inst.ack_num = in.Num();
      inst.throwaway_num = in.Num();
      inst.diff = in.Bytes(in.Byte());
      auto f = fragmenter.MakeFragments(inst, 100);
      if (f.ok()) payloads = *f;
    } else {
      payloads.push_back(in.Bytes(in.Byte()));
    }
    for (const std::string& p : payloads) {
      Packet packet{Direction::kToServer, seq++, 1, kNoTimestamp, p};
      net.Inject(from, to, codec.Seal(packet));
    }
    net.RunFor(absl::Milliseconds(1 + (c >> 1)));
    if ((*server)->remote_state_num() < newest) std::abort();  // never backwards
    newest = (*server)->remote_state_num();
    if ((*server)->received_states_held() > 1026) std::abort();  // bounded
  }
  net.RunFor(absl::Seconds(5));  // let the sender react to fuzzed acks
  return 0;
}
