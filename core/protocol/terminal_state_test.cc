#include "core/protocol/terminal_state.h"

#include "absl/strings/escaping.h"
#include "core/protocol/messages.h"
#include "gtest/gtest.h"

namespace moshx::protocol {
namespace {

core::Framebuffer WithText(int w, int h, int row, const std::string& text) {
  core::Framebuffer fb(w, h);
  core::Row* r = fb.MutableRow(row);
  for (size_t i = 0; i < text.size(); ++i) {
    r->Set(static_cast<int>(i), core::Cell{text.substr(i, 1), 1, {}, nullptr});
  }
  return fb;
}

TEST(TerminalStateTest, EqualStatesHaveEmptyDiff) {
  TerminalState a(80, 24);
  EXPECT_EQ(a.DiffFrom(TerminalState(80, 24)), "");
}

TEST(TerminalStateTest, EchoAckOnlyDiffMatchesMoshEncoding) {
  TerminalState a(80, 24);
  a.set_echo_ack(1);
  EXPECT_EQ(absl::BytesToHexString(a.DiffFrom(TerminalState(80, 24))), "0a043a024001");
}

TEST(TerminalStateTest, AppliesItsOwnDiffsExactly) {
  TerminalState server(80, 24);
  server.set_framebuffer(WithText(80, 24, 3, "hello world"));
  server.set_echo_ack(7);
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(server.DiffFrom(TerminalState(80, 24))).ok());
  EXPECT_TRUE(client == server);
}

TEST(TerminalStateTest, ResizeComesBeforeHostBytesAndRepairsSizeMismatch) {
  TerminalState server(100, 30);
  server.set_framebuffer(WithText(100, 30, 29, "bottom"));
  std::string diff = server.DiffFrom(TerminalState(80, 24));
  auto parsed = HostMessage::Parse(diff);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->instructions.size(), 2u);
  EXPECT_TRUE(parsed->instructions[0].resize.has_value());
  EXPECT_TRUE(parsed->instructions[1].hostbytes.has_value());
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(diff).ok());
  EXPECT_TRUE(client == server);
  EXPECT_EQ(client.InitDiff(), server.InitDiff());
}

TEST(TerminalStateTest, AppliesMoshServersCapturedHostBytes) {
  // Datagram B of docs/protocol.md §13: echoack 1 + "ESC[?25l LF hi ESC[?25h".
  std::string diff =
      absl::HexStringToBytes("0a043a0240010a131211220f1b5b3f32356c0a68691b5b3f323568");
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(diff).ok());
  EXPECT_EQ(client.echo_ack(), 1u);
  EXPECT_EQ(client.framebuffer().cell(1, 0).text, "h");
  EXPECT_EQ(client.framebuffer().cell(1, 1).text, "i");
  EXPECT_TRUE(client.framebuffer().cursor().visible);
}

TEST(TerminalStateTest, LenientApplySkipsUnknownHostBytesSequences) {
  HostMessage message;
  message.instructions.emplace_back().hostbytes = std::string("x\x1b[1\"qy");  // DECSCA: unknown
  TerminalState strict(80, 24);
  EXPECT_FALSE(strict.ApplyDiff(message.Serialize()).ok());
  TerminalState lenient(80, 24);
  lenient.set_lenient_apply(true);
  TerminalState copy = lenient;  // received states are copies: the flag travels
  ASSERT_TRUE(copy.ApplyDiff(message.Serialize()).ok());
  EXPECT_EQ(copy.framebuffer().cell(0, 0).text, "x");
  EXPECT_EQ(copy.framebuffer().cell(0, 1).text, "y");
  EXPECT_EQ(copy.skipped_sequences(), 1);
}

TEST(TerminalStateTest, RejectsDecreasingEchoAckBadSizesAndGarbage) {
  TerminalState client(80, 24);
  client.set_echo_ack(5);
  TerminalState older(80, 24);
  older.set_echo_ack(3);
  EXPECT_FALSE(client.ApplyDiff(older.DiffFrom(TerminalState(80, 24))).ok());
  HostMessage zero;
  zero.instructions.emplace_back().resize = Resize{0, 24};
  EXPECT_FALSE(TerminalState().ApplyDiff(zero.Serialize()).ok());
  EXPECT_FALSE(TerminalState().ApplyDiff("\xff\xff").ok());
}

TEST(TerminalStateTest, AcceptsNoLargerScreenThanTheServersEmulatorMakes) {
  EXPECT_EQ(TerminalState::kMaxDimension, 1024);
  for (Resize r : {Resize{1024, 1024}, Resize{1, 1}}) {
    HostMessage m;
    m.instructions.emplace_back().resize = r;
    TerminalState s;
    ASSERT_TRUE(s.ApplyDiff(m.Serialize()).ok()) << r.width;
    EXPECT_EQ(s.framebuffer().width(), r.width);
  }
  for (Resize r : {Resize{1025, 24}, Resize{80, 1025}, Resize{4096, 4096}}) {
    HostMessage m;
    m.instructions.emplace_back().resize = r;
    absl::Status s = TerminalState().ApplyDiff(m.Serialize());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << r.width << "x" << r.height;
  }
}

TEST(TerminalStateTest, PtyStateTravelsInTheMoshxExtensionField) {
  TerminalState server(80, 24);
  server.set_echo_ack(3);
  server.set_pty_state(PtyState{/*echo=*/false, /*canonical=*/true, true, 4242, /*settled=*/true});
  const std::string diff = server.DiffFrom(TerminalState(80, 24));
  absl::StatusOr<HostMessage> parsed = HostMessage::Parse(diff);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->instructions.size(), 2u);
  // Field 100, length-delimited: key 0xA2 0x06.
  EXPECT_EQ(absl::BytesToHexString(parsed->instructions[1].unknown_fields.substr(0, 2)), "a206");
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(diff).ok());
  EXPECT_TRUE(client == server);
  ASSERT_TRUE(client.pty_state().has_value());
  EXPECT_TRUE(client.pty_state()->secret());
  EXPECT_EQ(client.pty_state()->foreground, 4242u);
  EXPECT_TRUE(client.pty_state()->settled);
  // Unchanged: not resent; changed: resent.
  TerminalState next = server;
  EXPECT_EQ(next.DiffFrom(server), "");
  next.set_pty_state(PtyState{true, true, true, 4242});
  ASSERT_TRUE(client.ApplyDiff(next.DiffFrom(server)).ok());
  EXPECT_TRUE(client.pty_state()->echo);
}

TEST(TerminalStateTest, FreshIsWrittenOnlyWhileTrueAndItsEndTravels) {
  TerminalState server(80, 24);
  PtyState first{/*echo=*/false, /*canonical=*/false, true, 7, /*settled=*/true};
  server.set_pty_state(first);
  const size_t without = server.DiffFrom(TerminalState(80, 24)).size();
  first.fresh = true;
  server.set_pty_state(first);
  const std::string diff = server.DiffFrom(TerminalState(80, 24));
  EXPECT_EQ(diff.size(), without + 2);  // field 6 = 1: two bytes, only while true
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(diff).ok());
  ASSERT_TRUE(client.pty_state().has_value());
  EXPECT_TRUE(client.pty_state()->fresh);
  // The first keystroke ends it: the change is sent, and the absent field
  // reads as false.
  TerminalState next = server;
  PtyState typed = first;
  typed.fresh = false;
  next.set_pty_state(typed);
  ASSERT_NE(next.DiffFrom(server), "");
  ASSERT_TRUE(client.ApplyDiff(next.DiffFrom(server)).ok());
  EXPECT_FALSE(client.pty_state()->fresh);
  EXPECT_TRUE(client == next);
}

TEST(TerminalStateTest, WithoutPtyStateTheDiffIsMoshs) {
  TerminalState server(80, 24);
  server.set_echo_ack(1);
  EXPECT_EQ(absl::BytesToHexString(server.DiffFrom(TerminalState(80, 24))), "0a043a024001");
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(server.DiffFrom(TerminalState(80, 24))).ok());
  EXPECT_FALSE(client.pty_state().has_value());
}

TEST(TerminalStateTest, MalformedPtyStateIsRejected) {
  TerminalState client(80, 24);
  // Instruction { field 100 as a varint }.
  EXPECT_FALSE(client.ApplyDiff(std::string("\x0a\x03\xa0\x06\x01", 5)).ok());
  // Truncated payload.
  EXPECT_FALSE(client.ApplyDiff(std::string("\x0a\x04\xa2\x06\x05\x08", 6)).ok());
}

TEST(TerminalStateTest, SupersededTravelsInExtensionField103WithTheNewClientsAddress) {
  TerminalState server(80, 24);
  server.set_framebuffer(WithText(80, 24, 0, "still here"));
  TerminalState acked = server;
  server.set_superseded(Superseded{"[2001:db8::7]:50007"});
  const std::string diff = server.DiffFrom(acked);
  absl::StatusOr<HostMessage> parsed = HostMessage::Parse(diff);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->instructions.size(), 1u);  // the screen did not change
  // Field 103, length-delimited: key 0xBA 0x06; inside, field 1 (0x0A).
  EXPECT_EQ(absl::BytesToHexString(parsed->instructions[0].unknown_fields.substr(0, 4)),
            "ba06150a");
  TerminalState client = acked;
  ASSERT_TRUE(client.ApplyDiff(diff).ok());
  EXPECT_TRUE(client == server);
  ASSERT_TRUE(client.superseded().has_value());
  EXPECT_EQ(client.superseded()->new_client_address, "[2001:db8::7]:50007");
  EXPECT_EQ(server.DiffFrom(server), "");  // unchanged: not resent
}

TEST(TerminalStateTest, SupersededWithoutAKnownAddressIsAnEmptyMessage) {
  TerminalState server(80, 24);
  server.set_superseded(Superseded{});
  const std::string diff = server.DiffFrom(TerminalState(80, 24));
  EXPECT_EQ(absl::BytesToHexString(diff), "0a03ba0600");
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(diff).ok());
  ASSERT_TRUE(client.superseded().has_value());
  EXPECT_EQ(client.superseded()->new_client_address, "");
}

TEST(TerminalStateTest, SupersededAddressThatCouldDrawOnTheTerminalIsRefused) {
  // A sender drops such an address (sends "unknown")...
  TerminalState server(80, 24);
  server.set_superseded(Superseded{"1.2.3.4\x1b]0;pwned\x07"});
  EXPECT_EQ(absl::BytesToHexString(server.DiffFrom(TerminalState(80, 24))), "0a03ba0600");
  // ... and a receiver drops a diff carrying one, or an over-long one.
  for (const std::string& address :
       {std::string("1.2.3.4\x1b[2J"), std::string(65, '1'), std::string("a b")}) {
    std::string payload;
    payload += '\x0a';
    payload += static_cast<char>(address.size());
    payload += address;
    std::string inst = "\xba\x06";
    inst += static_cast<char>(payload.size());
    inst += payload;
    std::string diff = "\x0a";
    diff += static_cast<char>(inst.size());
    diff += inst;
    TerminalState client(80, 24);
    EXPECT_FALSE(client.ApplyDiff(diff).ok()) << absl::CEscape(address);
  }
  // Field 103 as a varint.
  TerminalState client(80, 24);
  EXPECT_FALSE(client.ApplyDiff(std::string("\x0a\x03\xb8\x06\x01", 5)).ok());
}

TEST(TerminalStateTest, WithoutSupersededTheDiffIsUnchanged) {
  TerminalState server(80, 24);
  server.set_echo_ack(1);
  TerminalState client(80, 24);
  ASSERT_TRUE(client.ApplyDiff(server.DiffFrom(TerminalState(80, 24))).ok());
  EXPECT_FALSE(client.superseded().has_value());
}

}  // namespace
}  // namespace moshx::protocol
