// ReplaceablePath: a failed path is reported once, sends are dropped (not
// errors) until a new one is put in, which then carries both ways.
#include "net/replaceable_path.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moshx::net {
namespace {

class FakePath : public Path {
 public:
  void set_receive_handler(ReceiveHandler handler) override { handler_ = std::move(handler); }
  absl::Status Send(absl::string_view datagram) override {
    if (!fail_with.ok()) {
      ++stats_.send_errors;
      return fail_with;
    }
    sent.emplace_back(datagram);
    return absl::OkStatus();
  }
  size_t mtu() const override { return 2048; }
  std::optional<Address> peer() const override { return peer_; }
  void SetPeer(const Address& peer) override { peer_ = peer; }
  void ClearPeer() override { peer_.reset(); }
  Address local_address() const override { return Address(); }
  PathStats stats() const override { return stats_; }
  void Deliver(const std::string& payload) { handler_(Datagram{payload, *peer_}); }

  std::vector<std::string> sent;
  absl::Status fail_with;

 private:
  std::optional<Address> peer_ = Address();
  ReceiveHandler handler_;
  PathStats stats_;
};

TEST(ReplaceablePathTest, AFailedPathIsReportedOnceAndANewOneCarriesBothWays) {
  auto first = std::make_unique<FakePath>();
  FakePath* a = first.get();
  ReplaceablePath path(std::move(first));
  std::vector<std::string> got, failures;
  path.set_receive_handler([&got](Datagram d) { got.push_back(d.payload); });
  path.set_failure_handler([&failures](const absl::Status& why) {
    failures.emplace_back(why.message());
  });
  ASSERT_TRUE(path.Send("1").ok());
  a->Deliver("one");
  a->fail_with = absl::UnavailableError("buffer full");  // congestion: no failure
  EXPECT_TRUE(absl::IsUnavailable(path.Send("2")));
  EXPECT_FALSE(path.failed());
  a->fail_with = absl::AbortedError("stream path: end of stream");
  EXPECT_TRUE(absl::IsAborted(path.Send("3")));
  EXPECT_TRUE(path.failed());
  EXPECT_TRUE(absl::IsUnavailable(path.Send("4")));  // dropped while down
  EXPECT_EQ(failures, std::vector<std::string>{"stream path: end of stream"});

  auto no_peer = std::make_unique<FakePath>();
  no_peer->ClearPeer();
  EXPECT_FALSE(path.Replace(std::move(no_peer)).ok());
  EXPECT_TRUE(path.failed());

  auto second = std::make_unique<FakePath>();
  FakePath* b = second.get();
  ASSERT_TRUE(path.Replace(std::move(second)).ok());
  EXPECT_FALSE(path.failed());
  ASSERT_TRUE(path.Send("5").ok());
  EXPECT_EQ(b->sent, std::vector<std::string>{"5"});
  b->Deliver("two");
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(path.stats().send_errors, 2u);  // the first path's, kept
}

}  // namespace
}  // namespace moshx::net
