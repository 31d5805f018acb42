#include "cmd/forward/socks5.h"

#include <string>

#include "gtest/gtest.h"

namespace moshx::cmd::forward {
namespace {

std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(Socks5Test, ConnectsToADomainNameFedByteByByte) {
  std::string input = B({5, 2, 2, 0}) + B({5, 1, 0, 3, 11}) + "example.org" + B({0x01, 0xbb}) +
                      "GET";
  Socks5Handshake h;
  std::string reply;
  Socks5Handshake::State s = Socks5Handshake::State::kNeedMore;
  for (char c : input.substr(0, input.size() - 3)) s = h.Feed(std::string(1, c), &reply);
  ASSERT_EQ(s, Socks5Handshake::State::kConnect) << h.error();
  EXPECT_EQ(reply, B({5, 0}));
  EXPECT_EQ(h.host(), "example.org");
  EXPECT_EQ(h.port(), 443);
  EXPECT_EQ(h.Feed("GET", &reply), Socks5Handshake::State::kConnect);
  EXPECT_EQ(Socks5Handshake::Reply(Socks5Handshake::kSucceeded), B({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(Socks5Test, TakesIpv4AndIpv6TargetsAndKeepsEarlyData) {
  Socks5Handshake v4;
  std::string reply;
  ASSERT_EQ(v4.Feed(B({5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80}) + "early", &reply),
            Socks5Handshake::State::kConnect);
  EXPECT_EQ(v4.host(), "127.0.0.1");
  EXPECT_EQ(v4.port(), 80);
  EXPECT_EQ(v4.TakeRemainder(), "early");

  Socks5Handshake v6;
  std::string req = B({5, 1, 0, 5, 1, 0, 4}) + std::string(15, '\0') + B({1, 0x1f, 0x90});
  ASSERT_EQ(v6.Feed(req, &reply), Socks5Handshake::State::kConnect);
  EXPECT_EQ(v6.host(), "::1");
  EXPECT_EQ(v6.port(), 8080);
}

TEST(Socks5Test, RefusesWhatItDoesNotSupport) {
  std::string reply;
  Socks5Handshake v4_client;
  EXPECT_EQ(v4_client.Feed(B({4, 1, 0, 80}), &reply), Socks5Handshake::State::kFailed);

  Socks5Handshake password_only;
  reply.clear();
  EXPECT_EQ(password_only.Feed(B({5, 1, 2}), &reply), Socks5Handshake::State::kFailed);
  EXPECT_EQ(reply, B({5, 0xff}));

  Socks5Handshake bind;
  reply.clear();
  EXPECT_EQ(bind.Feed(B({5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80}), &reply),
            Socks5Handshake::State::kFailed);
  EXPECT_EQ(reply, B({5, 0}) + Socks5Handshake::Reply(Socks5Handshake::kCommandNotSupported));

  Socks5Handshake bad_type;
  reply.clear();
  EXPECT_EQ(bad_type.Feed(B({5, 1, 0, 5, 1, 0, 9, 0, 0}), &reply),
            Socks5Handshake::State::kFailed);

  Socks5Handshake flood;
  reply.clear();
  EXPECT_EQ(flood.Feed(std::string(2000, '\5'), &reply), Socks5Handshake::State::kFailed);
}

}  // namespace
}  // namespace moshx::cmd::forward
