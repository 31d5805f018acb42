// Fuzzes datagram parsing. Three paths per input:
//  1. The input as a received datagram, opened by mosh- and moshx-mode codecs
//     under a fixed key (must fail cleanly; never crash).
//  2. The input as a plaintext sealed under the fixed key and opened again —
//     this reaches past decryption: Open must accept it and return exactly
//     what was sealed.
//  3. The input as a decrypted plaintext (DecodePlaintext), whose payload is
//     then fed to a fragment assembler.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/compressor.h"
#include "net/fragment.h"
#include "net/packet.h"

namespace {

using moshx::net::Direction;
using moshx::net::Packet;
using moshx::net::PacketCodec;

moshx::net::SessionKey FixedKey() {
  std::array<uint8_t, 16> raw{};
  for (int i = 0; i < 16; ++i) raw[i] = static_cast<uint8_t>(i);
  return moshx::net::SessionKey(raw);
}

void SealAndOpen(const PacketCodec& codec, const std::string& input) {
  Packet p;
  p.direction = input.size() % 2 ? Direction::kToClient : Direction::kToServer;
  p.seq = input.size() * 0x9E3779B97F4A7C15ull & moshx::net::kSeqMask;
  p.timestamp = static_cast<uint16_t>(input.size());
  p.payload = input;
  std::string datagram = codec.Seal(p);
  auto back = codec.Open(datagram, p.direction);
  bool fits = datagram.size() <= moshx::net::kMaxDatagramSize;
  if (fits != back.ok()) std::abort();
  if (back.ok() && !(*back == p)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PacketCodec* mosh = new PacketCodec(PacketCodec::Mosh(FixedKey()));
  static const PacketCodec* moshx = new PacketCodec(PacketCodec::Moshx(FixedKey(), 0));
  std::string input(reinterpret_cast<const char*>(data), size);
  for (const PacketCodec* codec : {mosh, moshx}) {
    (void)codec->Open(input, Direction::kToServer);
    (void)codec->Open(input, Direction::kToClient);
    SealAndOpen(*codec, input);
  }
  Packet packet;
  if (moshx::net::DecodePlaintext(input, &packet).ok()) {
    moshx::net::ZlibCompressor zlib;
    moshx::net::FragmentAssembler assembler(&zlib);
    (void)assembler.Add(packet.payload);
  }
  return 0;
}
