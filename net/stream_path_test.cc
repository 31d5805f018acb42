#include "net/stream_path.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"

namespace moshx::net {
namespace {

std::vector<std::string> FeedAll(StreamDeframer& d, absl::string_view bytes, size_t piece,
                                 absl::Status* status) {
  std::vector<std::string> got;
  *status = absl::OkStatus();
  for (size_t i = 0; i < bytes.size() && status->ok(); i += piece) {
    *status = d.Feed(bytes.substr(i, piece),
                     [&](absl::string_view dg) { got.emplace_back(dg); });
  }
  return got;
}

std::string Framed(const std::vector<std::string>& datagrams) {
  std::string out;
  for (const std::string& d : datagrams) AppendStreamFrame(d, &out);
  return out;
}

TEST(StreamDeframerTest, SplitsFramesFedInAnyPieces) {
  std::vector<std::string> datagrams = {"a", "", std::string(kMaxStreamDatagram, 'm'), "xyz"};
  std::string stream = Framed(datagrams);
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{700}, stream.size()}) {
    SCOPED_TRACE(piece);
    StreamDeframer d;
    absl::Status s;
    EXPECT_EQ(FeedAll(d, stream, piece, &s), datagrams);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(StreamDeframerTest, HoldsAnIncompleteFrame) {
  std::string stream = Framed({"hello"});
  StreamDeframer d;
  absl::Status s;
  EXPECT_TRUE(FeedAll(d, stream.substr(0, 4), 4, &s).empty());
  EXPECT_EQ(d.buffered(), 4u);
  EXPECT_EQ(FeedAll(d, stream.substr(4), 10, &s), std::vector<std::string>{"hello"});
}

TEST(StreamDeframerTest, HostileLengthIsAnErrorAndStaysOne) {
  StreamDeframer d;
  std::string stream = Framed({"ok"});
  stream += static_cast<char>((kMaxStreamDatagram + 1) >> 8);
  stream += static_cast<char>((kMaxStreamDatagram + 1) & 0xFF);
  stream += "and more bytes that must not be buffered";
  absl::Status s;
  EXPECT_EQ(FeedAll(d, stream, stream.size(), &s), std::vector<std::string>{"ok"});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(d.buffered(), 0u);
  // Out of step for good: even a valid frame afterwards is refused.
  EXPECT_EQ(FeedAll(d, Framed({"x"}), 10, &s).size(), 0u);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

TEST(StreamDeframerTest, LargestLengthOnTheWireIsRefusedBeforeItsBytesArrive) {
  StreamDeframer d;
  absl::Status s;
  FeedAll(d, "\xFF\xFF", 2, &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(d.buffered(), 0u);
}

// Two StreamPaths on the two ends of a socketpair, on a real poll loop.
class StreamPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = *PollEventLoop::Create(&clock_);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    auto a = StreamPath::Create(loop_.get(), fds[0], fds[0], /*peer_known=*/true);
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = StreamPath::Create(loop_.get(), fds[1], fds[1], /*peer_known=*/false);
    ASSERT_TRUE(b.ok()) << b.status();
    client_ = std::move(*a);
    server_ = std::move(*b);
    client_->set_receive_handler([this](Datagram d) { client_got_.push_back(d.payload); });
    server_->set_receive_handler([this](Datagram d) {
      EXPECT_EQ(d.from, StreamPath::PeerAddress());
      server_got_.push_back(d.payload);
    });
  }

  // Runs the loop until `done` or 5 real seconds.
  bool RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 5000 && !done(); ++i) {
      EXPECT_TRUE(loop_->RunOnce(absl::Milliseconds(1)).ok());
    }
    return done();
  }

  SystemClock clock_;
  std::unique_ptr<PollEventLoop> loop_;
  std::unique_ptr<StreamPath> client_, server_;
  std::vector<std::string> client_got_, server_got_;
};

TEST_F(StreamPathTest, CarriesDatagramsBothWaysInOrder) {
  EXPECT_EQ(server_->Send("too early").code(), absl::StatusCode::kFailedPrecondition);
  std::vector<std::string> sent = {"first", "", std::string(kMaxStreamDatagram, 'z'), "last"};
  for (const std::string& d : sent) ASSERT_TRUE(client_->Send(d).ok());
  ASSERT_TRUE(RunUntil([&] { return server_got_.size() == sent.size(); }));
  EXPECT_EQ(server_got_, sent);
  server_->SetPeer(StreamPath::PeerAddress());
  ASSERT_TRUE(server_->Send("reply").ok());
  ASSERT_TRUE(RunUntil([&] { return !client_got_.empty(); }));
  EXPECT_EQ(client_got_, std::vector<std::string>{"reply"});
  EXPECT_EQ(client_->mtu(), kMaxStreamDatagram);
}

TEST_F(StreamPathTest, OversizeDatagramIsRefused) {
  EXPECT_EQ(client_->Send(std::string(kMaxStreamDatagram + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->stats().send_errors, 1u);
}

TEST_F(StreamPathTest, OutputIsBoundedWhileThePeerDoesNotReadAndStaysInStep) {
  // Nobody runs the loop: the socket buffer fills, then the path's own.
  std::vector<std::string> accepted;
  for (int i = 0; i < 10000; ++i) {
    std::string d = std::to_string(i) + std::string(1000, 'q');
    absl::Status s = client_->Send(d);
    if (absl::IsUnavailable(s)) break;
    ASSERT_TRUE(s.ok()) << s;
    accepted.push_back(d);
  }
  EXPECT_LT(accepted.size(), 10000u);
  EXPECT_LE(client_->pending_bytes(), StreamPath::kMaxPendingBytes);
  EXPECT_EQ(client_->stats().send_errors, 1u);
  // Every accepted datagram arrives whole and in order once the peer reads.
  ASSERT_TRUE(RunUntil([&] { return server_got_.size() == accepted.size(); }));
  EXPECT_EQ(server_got_, accepted);
  EXPECT_EQ(client_->pending_bytes(), 0u);
}

TEST_F(StreamPathTest, HostileLengthStopsThePathWithoutDelivering) {
  int raw[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, raw), 0);
  auto path = *StreamPath::Create(loop_.get(), raw[0], raw[0], true);
  int delivered = 0;
  path->set_receive_handler([&](Datagram) { ++delivered; });
  std::string hostile = "\x7F\xFF" + std::string(100, 'h');
  ASSERT_EQ(write(raw[1], hostile.data(), hostile.size()), ssize_t(hostile.size()));
  ASSERT_TRUE(RunUntil([&] { return !path->status().ok(); }));
  EXPECT_EQ(path->status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(path->Send("x").code(), absl::StatusCode::kDataLoss);
  close(raw[1]);
}

TEST_F(StreamPathTest, EndOfStreamStopsThePath) {
  server_.reset();  // closes its end
  ASSERT_TRUE(RunUntil([&] { return !client_->status().ok(); }));
  EXPECT_EQ(client_->status().code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(client_->Send("x").ok());
}

TEST(StreamPathCreateTest, NegativeDescriptorIsAnError) {
  SystemClock clock;
  auto loop = *PollEventLoop::Create(&clock);
  EXPECT_EQ(StreamPath::Create(loop.get(), -1, -1, true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moshx::net
