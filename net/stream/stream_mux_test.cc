#include "net/stream/stream_mux.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/stream/testing/sim_link.h"
#include "net/testing/simulated_network.h"

namespace moshx::net::stream {
namespace {

using net::testing::LinkParams;
using net::testing::SimulatedNetwork;
using testing::SimLink;

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Writes `data` as buffer space allows, then finishes.
struct Writer {
  StreamMux* mux;
  StreamId id;
  std::string data;
  size_t pos = 0;
  bool finish = true;
  bool finished = false;
  int writable_calls = 0;
  void Pump() {
    while (pos < data.size()) {
      size_t n = mux->Write(id, absl::string_view(data).substr(pos, 256 * 1024));
      if (n == 0) break;
      pos += n;
    }
    if (pos == data.size() && finish && !finished) {
      mux->Finish(id);
      finished = true;
    }
  }
};

// Reads everything (unless paused) into `got`.
struct Reader {
  StreamMux* mux;
  StreamId id;
  std::string got;
  bool eof = false;
  bool paused = false;
  std::optional<uint64_t> reset_code;
  void Pump() {
    if (paused) return;
    for (std::string s = mux->Read(id, 1 << 20); !s.empty(); s = mux->Read(id, 1 << 20)) got += s;
    if (mux->AtEof(id)) eof = true;
  }
};

// One stream's both ends: a writer and a reader on each side.
struct Pipe {
  Writer out;   // client -> server
  Reader in;    // server's reader
  Writer back;  // server -> client
  Reader back_in;
};

class StreamMuxTest : public ::testing::Test {
 protected:
  void Make(const LinkParams& params, MuxConfig client = {}, MuxConfig server = {}) {
    link_ = std::make_unique<SimLink>(&net_, params, client, server);
    link_->server->set_incoming_handler([this](StreamId id) { OnIncoming(id); });
  }

  // Server side of every incoming stream: read all; answer with
  // `server_reply_` bytes (may be empty) and finish.
  void OnIncoming(StreamId id) {
    auto pipe = pending_.empty() ? nullptr : pending_.front();
    if (pipe == nullptr) return;
    pending_.erase(pending_.begin());
    pipe->in.mux = link_->server.get();
    pipe->in.id = id;
    pipe->back.mux = link_->server.get();
    pipe->back.id = id;
    link_->server->SetCallbacks(
        id, {[pipe] { pipe->in.Pump(); }, [pipe] { pipe->back.Pump(); },
             [pipe](uint64_t code) { pipe->in.reset_code = code; }}).IgnoreError();
    pipe->in.Pump();
    pipe->back.Pump();
  }

  std::shared_ptr<Pipe> OpenPipe(std::string up, std::string down,
                                 StreamOptions options = {}, bool finish = true) {
    auto pipe = std::make_shared<Pipe>();
    auto id = link_->client->Open(options);
    EXPECT_TRUE(id.ok()) << id.status();
    pipe->out = Writer{link_->client.get(), *id, std::move(up)};
    pipe->back_in = Reader{link_->client.get(), *id};
    pipe->back.data = std::move(down);
    pipe->out.finish = pipe->back.finish = finish;
    link_->client->SetCallbacks(
        *id, {[pipe] { pipe->back_in.Pump(); }, [pipe] { pipe->out.Pump(); },
              [pipe](uint64_t code) { pipe->back_in.reset_code = code; }}).IgnoreError();
    pending_.push_back(pipe);
    pipe->out.Pump();
    return pipe;
  }

  static bool Done(const Pipe& p) {
    return p.in.eof && p.back_in.eof && p.in.got == p.out.data && p.back_in.got == p.back.data;
  }

  SimulatedNetwork net_{/*seed=*/11};
  std::unique_ptr<SimLink> link_;
  std::vector<std::shared_ptr<Pipe>> pending_;
};

LinkParams Bottleneck(double loss = 0) {
  LinkParams p;
  p.delay = absl::Milliseconds(25);
  p.rate_bits_per_second = 20e6;
  p.queue_bytes = 200 * 1000;  // 80 ms at 20 Mbit/s: a typical bloated buffer
  p.loss = loss;
  return p;
}

class LossyTransferTest : public StreamMuxTest, public ::testing::WithParamInterface<double> {};

TEST_P(LossyTransferTest, BothDirectionsArriveByteExact) {
  LinkParams p = Bottleneck(GetParam());
  p.duplicate = 0.02;
  p.reorder = 0.05;
  p.reorder_delay = absl::Milliseconds(15);
  Make(p);
  auto pipe = OpenPipe(Pattern(1500 * 1000, 1), Pattern(700 * 1000, 2));
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(120)))
      << "up " << pipe->in.got.size() << " down " << pipe->back_in.got.size() << "\nclient "
      << link_->client->DebugString() << "server " << link_->server->DebugString();
  // Both ends closed: FINs acknowledged, EOF read, the stream slot freed.
  net_.RunFor(absl::Seconds(2));
  EXPECT_EQ(link_->client->open_streams(), 0u);
  EXPECT_EQ(link_->server->open_streams(), 0u);
  EXPECT_EQ(link_->server->stats().dropped_malformed, 0u);
}

INSTANTIATE_TEST_SUITE_P(Loss, LossyTransferTest, ::testing::Values(0.0, 0.05, 0.20));

TEST_F(StreamMuxTest, RetransmitsOnlyWhatWasLost) {
  LinkParams p = Bottleneck(0.05);
  Make(p);
  auto pipe = OpenPipe(Pattern(2000 * 1000, 3), "");
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(60)));
  uint64_t lost = net_.stats(link_->client_host, link_->server_host).lost +
                  net_.stats(link_->client_host, link_->server_host).queue_drops;
  uint64_t retransmitted = link_->client->stats().bytes_retransmitted;
  std::printf("lost datagrams %llu, retransmitted bytes %llu\n",
              static_cast<unsigned long long>(lost),
              static_cast<unsigned long long>(retransmitted));
  EXPECT_GT(lost, 0u);
  EXPECT_LE(retransmitted, lost * link_->client_end->max_frame_size() * 6 / 5);
}

// Clean 20 Mbit/s, 50 ms RTT bottleneck with an 80 ms buffer: a bulk
// transfer fills the link, and a "keystroke" echoed over the terminal frame
// type meanwhile comes back within 1 RTT + 20 ms.
TEST_F(StreamMuxTest, FillsACleanLinkAndKeepsKeystrokeEchoFast) {
  Make(Bottleneck());
  // Terminal echo: the server sends every terminal frame straight back.
  link_->server_end->set_terminal_handler(
      [this](absl::string_view b) { link_->server_end->SendTerminal(b).IgnoreError(); });
  std::vector<std::pair<MonoTime, absl::Duration>> echoes;
  link_->client_end->set_terminal_handler([&](absl::string_view b) {
    MonoTime sent = MonoTime::FromEpoch(absl::Microseconds(std::stoll(std::string(b))));
    echoes.push_back({sent, net_.Now() - sent});
  });
  const size_t kBytes = 12 * 1000 * 1000;
  auto pipe = OpenPipe("GET", Pattern(kBytes, 4));
  MonoTime start = net_.Now();
  // Type a key every 37 ms while the transfer runs.
  std::function<void()> type_key = [&] {
    link_->client_end
        ->SendTerminal(std::to_string(absl::ToInt64Microseconds(net_.Now().since_epoch())))
        .IgnoreError();
    if (!Done(*pipe)) net_.ScheduleAlarm(net_.Now() + absl::Milliseconds(37), type_key);
  };
  type_key();
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(60)));
  double seconds = absl::ToDoubleSeconds(net_.Now() - start);
  double mbit = kBytes * 8 / seconds / 1e6;
  absl::Duration worst = absl::ZeroDuration(), worst_startup = absl::ZeroDuration();
  for (const auto& [sent, rtt] : echoes) {
    if (sent - start < absl::Seconds(1)) {
      worst_startup = std::max(worst_startup, rtt);
    } else {
      worst = std::max(worst, rtt);
    }
  }
  std::printf("goodput %.2f Mbit/s over %.2f s; echo max %s after the first second "
              "(%s during it), %zu keys\n",
              mbit, seconds, absl::FormatDuration(worst).c_str(),
              absl::FormatDuration(worst_startup).c_str(), echoes.size());
  // 20 Mbit/s carries at most ~18.8 Mbit/s of stream bytes (IP/UDP and
  // association headers); ask for 85% of the link.
  EXPECT_GE(mbit, 17.0);
  EXPECT_LE(worst, absl::Milliseconds(50 + 20));
}

TEST_F(StreamMuxTest, SurvivesAThirtySecondOutage) {
  Make(Bottleneck(0.01));
  auto pipe = OpenPipe(Pattern(6000 * 1000, 5), Pattern(3000 * 1000, 6));
  net_.RunFor(absl::Milliseconds(800));
  ASSERT_FALSE(Done(*pipe));
  LinkParams down = Bottleneck(1.0);
  net_.SetLinks(link_->client_host, link_->server_host, down);
  uint64_t probes_before = link_->client->stats().probe_timeouts;
  net_.RunFor(absl::Seconds(30));
  // Backoff capped at max_probe_timeout (1 s): about one probe a second.
  uint64_t probes = link_->client->stats().probe_timeouts - probes_before;
  EXPECT_GE(probes, 20u);
  EXPECT_LE(probes, 40u);
  net_.SetLinks(link_->client_host, link_->server_host, Bottleneck(0.01));
  MonoTime back = net_.Now();
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(60)));
  std::printf("finished %.2f s after the link returned\n",
              absl::ToDoubleSeconds(net_.Now() - back));
  EXPECT_FALSE(pipe->in.reset_code.has_value());
  EXPECT_FALSE(pipe->back_in.reset_code.has_value());
  EXPECT_GE(link_->client->stats().persistent_congestion, 1u);
  EXPECT_EQ(link_->client->stats().outage_resets, 0u);
}

TEST_F(StreamMuxTest, ResetsStreamsCleanlyAfterTheOutageLimit) {
  MuxConfig config;
  config.outage_limit = absl::Minutes(10);
  Make(Bottleneck(), config, config);
  auto pipe = OpenPipe(Pattern(8000 * 1000, 7), "");
  net_.RunFor(absl::Seconds(1));
  net_.SetLinks(link_->client_host, link_->server_host, Bottleneck(1.0));
  net_.RunFor(absl::Minutes(11));
  EXPECT_EQ(pipe->back_in.reset_code, kResetOutage);  // the waiting sender gave up
  net_.SetLinks(link_->client_host, link_->server_host, Bottleneck());
  net_.RunFor(absl::Seconds(10));
  EXPECT_EQ(pipe->in.reset_code, kResetOutage);  // the peer heard the RESET
  EXPECT_EQ(link_->client->open_streams(), 0u);
  EXPECT_EQ(link_->server->open_streams(), 0u);
  EXPECT_GT(link_->client->stats().outage_resets, 0u);
  // The association itself goes on: a new stream works.
  auto again = OpenPipe(Pattern(100 * 1000, 8), "ok");
  EXPECT_TRUE(net_.RunUntil([&] { return Done(*again); }, absl::Seconds(10)));
}

TEST_F(StreamMuxTest, CarriesOnAcrossAPathChange) {
  Make(Bottleneck(0.01));
  auto pipe = OpenPipe(Pattern(3000 * 1000, 9), Pattern(3000 * 1000, 10));
  net_.RunFor(absl::Milliseconds(700));
  ASSERT_FALSE(Done(*pipe));
  net_.Rebind(link_->client_host, "10.0.0.99");  // the client roams
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(60)));
  EXPECT_EQ(link_->server->stats().path_changes, 1u);
}

TEST_F(StreamMuxTest, HonoursHalfClose) {
  Make(Bottleneck());
  auto pipe = OpenPipe("request", Pattern(300 * 1000, 11));
  pipe->back.finish = false;  // the server answers later
  ASSERT_TRUE(net_.RunUntil([&] { return pipe->in.eof; }, absl::Seconds(5)));
  EXPECT_EQ(pipe->in.got, "request");
  // The client finished; the server's direction stays open as long as it likes.
  net_.RunFor(absl::Seconds(3));
  EXPECT_EQ(link_->client->open_streams(), 1u);
  EXPECT_FALSE(pipe->back_in.eof);
  pipe->back.finish = true;
  pipe->back.Pump();
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(10)));
  net_.RunFor(absl::Seconds(1));
  EXPECT_EQ(link_->client->open_streams(), 0u);
  EXPECT_EQ(link_->server->open_streams(), 0u);
}

TEST_F(StreamMuxTest, BackpressureBoundsBuffersUntilTheReaderReads) {
  MuxConfig config;
  config.stream_window = 256 * 1024;
  config.connection_window = 512 * 1024;
  config.send_buffer = 128 * 1024;
  Make(Bottleneck(), config, config);
  std::vector<std::shared_ptr<Pipe>> pipes;
  for (int i = 0; i < 4; ++i) pipes.push_back(OpenPipe(Pattern(2000 * 1000, 20 + i), ""));
  for (auto& p : pipes) p->in.paused = true;
  net_.RunFor(absl::Seconds(5));
  size_t buffered = 0;
  for (auto& p : pipes) {
    size_t readable = link_->server->Readable(p->in.id);
    EXPECT_LE(readable, config.stream_window);
    EXPECT_LE(p->out.pos, config.stream_window + config.send_buffer);
    EXPECT_LT(link_->client->Writable(p->out.id), config.send_buffer / 4);
    buffered += readable;
  }
  EXPECT_LE(buffered, config.connection_window);
  EXPECT_GT(buffered, config.connection_window / 2);
  for (auto& p : pipes) {
    p->in.paused = false;
    p->in.Pump();
  }
  ASSERT_TRUE(net_.RunUntil(
      [&] { return std::all_of(pipes.begin(), pipes.end(), [](auto& p) { return Done(*p); }); },
      absl::Seconds(60)));
  EXPECT_EQ(link_->server->stats().flow_control_violations, 0u);
}

TEST_F(StreamMuxTest, IdleBuffersAreGivenBackAndTheStreamGoesOn) {
  Make(Bottleneck());
  auto pipe = OpenPipe(Pattern(400 * 1000, 5), "", {}, /*finish=*/false);
  ASSERT_TRUE(net_.RunUntil(
      [&] { return pipe->in.got.size() == pipe->out.data.size(); }, absl::Seconds(10)));
  net_.RunFor(absl::Seconds(1));  // the last acknowledgements
  ASSERT_EQ(link_->client->BytesAcked(pipe->out.id), pipe->out.data.size());
  const size_t client_before = link_->client->buffer_capacity();
  EXPECT_GE(client_before, 64u * 1024) << "the burst should have grown the send buffer";
  link_->client->ReleaseIdleBuffers();
  link_->server->ReleaseIdleBuffers();
  EXPECT_EQ(link_->client->buffer_capacity(), 0u);
  EXPECT_EQ(link_->server->buffer_capacity(), 0u);
  // Nothing is lost: the same stream carries the rest, in order.
  const std::string more = Pattern(100 * 1000, 6);
  pipe->out.data += more;
  pipe->out.finish = true;
  pipe->out.Pump();
  pipe->back.finish = true;
  pipe->back.Pump();
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(10)));
}

TEST_F(StreamMuxTest, CapsStreamsThePeerMayOpen) {
  MuxConfig server;
  server.max_incoming_streams = 10;
  Make(Bottleneck(), {}, server);
  std::vector<std::shared_ptr<Pipe>> pipes;
  for (int i = 0; i < 8; ++i) pipes.push_back(OpenPipe("x", "y", {}, /*finish=*/false));
  EXPECT_EQ(link_->client->Open().status().code(), absl::StatusCode::kResourceExhausted);
  net_.RunFor(absl::Seconds(1));  // the server's MAX_STREAMS (10) arrives
  pipes.push_back(OpenPipe("x", "y", {}, /*finish=*/false));
  pipes.push_back(OpenPipe("x", "y", {}, /*finish=*/false));
  EXPECT_EQ(link_->client->Open().status().code(), absl::StatusCode::kResourceExhausted);
  // One stream closes completely; its slot comes back.
  net_.RunFor(absl::Seconds(1));
  pipes[9]->out.finish = pipes[9]->back.finish = true;
  pipes[9]->out.Pump();
  pipes[9]->back.Pump();
  ASSERT_TRUE(net_.RunUntil([&] { return Done(*pipes[9]); }, absl::Seconds(5)));
  net_.RunFor(absl::Seconds(1));
  EXPECT_TRUE(link_->client->Open().ok());
  // A peer that ignores the limit is refused and counted.
  std::string frame;
  AppendVarint(&frame, 1000000);
  AppendStream(&frame, /*stream_id=*/(500 << 1), 0, "flood", false);
  ASSERT_TRUE(link_->client_end->SendFrame(frame).ok());
  net_.RunFor(absl::Seconds(1));
  EXPECT_GE(link_->server->stats().streams_refused, 1u);
  EXPECT_LE(link_->server->open_streams(), 11u);
}

TEST_F(StreamMuxTest, ResetReachesThePeerWithItsCode) {
  Make(Bottleneck());
  auto pipe = OpenPipe(Pattern(2000 * 1000, 30), "");
  net_.RunFor(absl::Milliseconds(300));
  link_->client->Reset(pipe->out.id, 0x1234);
  EXPECT_FALSE(link_->client->Exists(pipe->out.id));
  net_.RunFor(absl::Seconds(2));
  EXPECT_EQ(pipe->in.reset_code, 0x1234u);
  EXPECT_EQ(link_->client->open_streams(), 0u);
  EXPECT_EQ(link_->server->open_streams(), 0u);
  // The connection window is not leaked: a full-size transfer still fits.
  auto again = OpenPipe(Pattern(5000 * 1000, 31), "");
  EXPECT_TRUE(net_.RunUntil([&] { return Done(*again); }, absl::Seconds(30)));
}

TEST_F(StreamMuxTest, HigherPriorityGoesFirstAndWeightsShareAPriority) {
  Make(Bottleneck());
  StreamOptions history{kPriorityHistory, 1, 0};
  StreamOptions bulk{kPriorityBulk, 1, 0};
  auto low = OpenPipe(Pattern(2000 * 1000, 40), "", bulk);
  auto high = OpenPipe(Pattern(2000 * 1000, 41), "", history);
  ASSERT_TRUE(net_.RunUntil([&] { return high->in.eof; }, absl::Seconds(30)));
  std::printf("when the high-priority stream ended the low one had %zu bytes\n",
              low->in.got.size());
  EXPECT_LT(low->in.got.size(), 2000u * 1000 / 4);

  auto light = OpenPipe(Pattern(3000 * 1000, 42), "", StreamOptions{kPriorityDefault, 1, 0});
  auto heavy = OpenPipe(Pattern(3000 * 1000, 43), "", StreamOptions{kPriorityDefault, 3, 0});
  ASSERT_TRUE(net_.RunUntil([&] { return heavy->in.eof; }, absl::Seconds(30)));
  double ratio = static_cast<double>(light->in.got.size()) / heavy->in.got.size();
  std::printf("weight 1 : weight 3 = %.2f\n", ratio);
  EXPECT_GT(ratio, 0.2);
  EXPECT_LT(ratio, 0.5);
}

TEST_F(StreamMuxTest, MalformedFramesAreCountedDrops) {
  Make(Bottleneck());
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::string junk = Pattern(1 + rng() % 100, 100 + i);
    link_->client_end->SendFrame(junk).IgnoreError();
  }
  // An ACK for a packet the server never sent.
  std::string ack;
  AppendVarint(&ack, 7);
  AppendAck(&ack, AckChunk{0, {{0, 500}}});
  link_->client_end->SendFrame(ack).IgnoreError();
  net_.RunFor(absl::Seconds(1));
  EXPECT_GT(link_->server->stats().dropped_malformed, 100u);
  auto pipe = OpenPipe(Pattern(100 * 1000, 50), "fine");
  EXPECT_TRUE(net_.RunUntil([&] { return Done(*pipe); }, absl::Seconds(10)));
}

}  // namespace
}  // namespace moshx::net::stream
