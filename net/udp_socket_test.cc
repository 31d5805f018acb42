#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"

namespace moshx::net {
namespace {

Address Loopback4() { return *Address::Parse("127.0.0.1", 0); }
Address Loopback6() { return *Address::Parse("::1", 0); }

// Receives with a few retries (loopback delivery is immediate but the
// socket is nonblocking).
absl::StatusOr<Datagram> ReceiveSoon(UdpSocket& s) {
  absl::StatusOr<Datagram> d;
  for (int i = 0; i < 1000; ++i) {
    d = s.ReceiveFrom();
    if (!absl::IsUnavailable(d.status())) return d;
    usleep(1000);
  }
  return d;
}

TEST(AddressTest, ParsesAndPrintsBothFamilies) {
  auto v4 = Address::Parse("127.0.0.1", 60001);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ToString(), "127.0.0.1:60001");
  auto v6 = Address::Parse("::1", 60001);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), AddressFamily::kIPv6);
  EXPECT_EQ(v6->ToString(), "[::1]:60001");
  EXPECT_FALSE(Address::Parse("localhost", 1).ok());
  EXPECT_NE(*v4, v4->WithPort(1));
}

TEST(UdpSocketTest, SendsAndReceivesOnIpv4Loopback) {
  auto a = UdpSocket::Bind(Loopback4(), {0, 0});
  auto b = UdpSocket::Bind(Loopback4(), {0, 0});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE((*a)->local_address().port(), 0);
  EXPECT_TRUE(absl::IsUnavailable((*b)->ReceiveFrom().status()));
  ASSERT_TRUE((*a)->SendTo((*b)->local_address(), "hello").ok());
  auto d = ReceiveSoon(**b);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->payload, "hello");
  EXPECT_EQ(d->from, (*a)->local_address());
  EXPECT_FALSE(d->congestion_experienced);
}

TEST(UdpSocketTest, SendsAndReceivesOnIpv6Loopback) {
  auto a = UdpSocket::Bind(Loopback6(), {0, 0});
  if (!a.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << a.status();
  auto b = UdpSocket::Bind(Loopback6(), {0, 0});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->family(), AddressFamily::kIPv6);
  ASSERT_TRUE((*a)->SendTo((*b)->local_address(), std::string(1000, 'x')).ok());
  auto d = ReceiveSoon(**b);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->payload.size(), 1000u);
  EXPECT_EQ(d->from, (*a)->local_address());
}

TEST(UdpSocketTest, BindsFirstFreePortOfRange) {
  // Find a free base port, then occupy it and expect the next one.
  auto probe = UdpSocket::Bind(Loopback4(), {0, 0});
  ASSERT_TRUE(probe.ok());
  uint16_t base = (*probe)->local_address().port();
  probe->reset();
  std::vector<std::unique_ptr<UdpSocket>> held;
  auto first = UdpSocket::Bind(Loopback4(), {base, static_cast<uint16_t>(base + 5)});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->local_address().port(), base);
  auto second = UdpSocket::Bind(Loopback4(), {base, static_cast<uint16_t>(base + 5)});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT((*second)->local_address().port(), base);
}

TEST(UdpSocketTest, ExhaustedRangeNamesTheRange) {
  auto taken = UdpSocket::Bind(Loopback4(), {0, 0});
  ASSERT_TRUE(taken.ok());
  uint16_t port = (*taken)->local_address().port();
  auto again = UdpSocket::Bind(Loopback4(), {port, port});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(again.status().message().find(absl::StrCat(port)), absl::string_view::npos);
  EXPECT_NE(again.status().message().find("127.0.0.1"), absl::string_view::npos);
  EXPECT_NE(again.status().message().find("Address already in use"),
            absl::string_view::npos);
}

TEST(UdpSocketTest, RejectsInvertedRange) {
  auto s = UdpSocket::Bind(Loopback4(), {60010, 60001});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(UdpSocketTest, EphemeralFactorySocketsGetDistinctPorts) {
  UdpSocketFactory factory;
  auto a = factory.Open(AddressFamily::kIPv4);
  auto b = factory.Open(AddressFamily::kIPv4);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->local_address().port(), (*b)->local_address().port());
  EXPECT_GE((*a)->fd(), 0);
}

TEST(UdpSocketTest, ReportsEcnCongestionExperienced) {
  auto receiver = UdpSocket::Bind(Loopback4(), {0, 0});
  ASSERT_TRUE(receiver.ok());
  // A plain sender that marks its datagrams CE (TOS low bits 11), as a
  // congested router would.
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  int tos = 0x03;
  ASSERT_EQ(setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons((*receiver)->local_address().port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(sendto(fd, "ce", 2, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 2);
  close(fd);
  auto d = ReceiveSoon(**receiver);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->congestion_experienced);
}

TEST(UdpSocketTest, OversizeSendReportsTooLarge) {
  auto a = UdpSocket::Bind(Loopback4(), {0, 0});
  ASSERT_TRUE(a.ok());
  // 70000 bytes cannot fit in any UDP datagram: EMSGSIZE.
  absl::Status s = (*a)->SendTo((*a)->local_address(), std::string(70000, 'x'));
  EXPECT_TRUE(IsDatagramTooLarge(s)) << s;
  EXPECT_FALSE(IsDatagramTooLarge(absl::UnavailableError("x")));
}

}  // namespace
}  // namespace moshx::net
