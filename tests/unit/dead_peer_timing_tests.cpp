#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include "dead_peer_timing.hpp"
#include "net/dead_peer_options.hpp"

namespace {

using namespace std::chrono_literals;
using cturn::dead_peer_timing_within;

// The kernel drops a silent peer when the last of its unanswered probes times
// out, this long after the last segment from the peer.
std::chrono::seconds keepalive_gives_up_after(const cturn::dead_peer_timing& timing) {
  return timing.idle + timing.probes * timing.interval;
}

int tcp_option(boost::asio::ip::tcp::socket& socket, int name, int level = IPPROTO_TCP) {
  int value = -1;
  socklen_t size = sizeof(value);
  BOOST_REQUIRE(::getsockopt(socket.native_handle(), level, name, &value, &size) == 0);
  return value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dead_peer_timing_suite)

BOOST_AUTO_TEST_CASE(zero_keeps_the_kernel_defaults) {
  BOOST_TEST(!dead_peer_timing_within(0s).has_value());
}

BOOST_AUTO_TEST_CASE(the_default_minute) {
  const auto timing = dead_peer_timing_within(60s);
  BOOST_REQUIRE(timing.has_value());
  BOOST_TEST(timing->idle.count() == 15);
  BOOST_TEST(timing->interval.count() == 5);
  BOOST_TEST(timing->probes == 3);
  BOOST_TEST(timing->user_timeout.count() == 30'000);
}

BOOST_AUTO_TEST_CASE(short_bounds_use_fewer_probes) {
  const auto eight = dead_peer_timing_within(8s);
  BOOST_REQUIRE(eight.has_value());
  BOOST_TEST(eight->idle.count() == 2);
  BOOST_TEST(eight->interval.count() == 1);
  BOOST_TEST(eight->probes == 2);
  BOOST_TEST(eight->user_timeout.count() == 4'000);
  const auto four = dead_peer_timing_within(4s);
  BOOST_REQUIRE(four.has_value());
  BOOST_TEST(four->idle.count() == 1);
  BOOST_TEST(four->interval.count() == 1);
  BOOST_TEST(four->probes == 1);
  BOOST_TEST(four->user_timeout.count() == 2'000);
}

// Every accepted bound is kept in the worst case (output sent just before
// keepalive gives up waits user_timeout more), with timings the kernel
// accepts (idle and interval 1..32767 s, probes 1..127).
BOOST_AUTO_TEST_CASE(every_bound_is_kept) {
  for (auto bound = cturn::shortest_dead_peer_timeout; bound <= cturn::longest_dead_peer_timeout;
       ++bound) {
    const auto timing = dead_peer_timing_within(bound);
    BOOST_REQUIRE(timing.has_value());
    BOOST_TEST_CONTEXT("bound " << bound.count() << " s") {
      BOOST_TEST(keepalive_gives_up_after(*timing) == timing->user_timeout);
      BOOST_TEST(keepalive_gives_up_after(*timing) + timing->user_timeout <= bound);
      // Not needlessly soon either: half the bound, whole seconds.
      BOOST_TEST(timing->user_timeout == bound / 2);
      // Probes start after half of that at the earliest.
      BOOST_TEST(timing->idle >= bound / 4);
      BOOST_TEST(timing->idle.count() >= 1);
      BOOST_TEST(timing->idle.count() <= 32767);
      BOOST_TEST(timing->interval.count() >= 1);
      BOOST_TEST(timing->interval.count() <= 32767);
      BOOST_TEST(timing->probes >= 1);
      BOOST_TEST(timing->probes <= 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_timings_reach_the_socket) {
  boost::asio::io_context context;
  boost::asio::ip::tcp::socket socket(context, boost::asio::ip::tcp::v4());
  BOOST_REQUIRE(!cturn::set_dead_peer_options(socket, dead_peer_timing_within(60s)));
  BOOST_TEST(tcp_option(socket, SO_KEEPALIVE, SOL_SOCKET) == 1);
  BOOST_TEST(tcp_option(socket, TCP_KEEPIDLE) == 15);
  BOOST_TEST(tcp_option(socket, TCP_KEEPINTVL) == 5);
  BOOST_TEST(tcp_option(socket, TCP_KEEPCNT) == 3);
  BOOST_TEST(tcp_option(socket, TCP_USER_TIMEOUT) == 30'000);
}

BOOST_AUTO_TEST_CASE(without_timings_only_keepalive_is_turned_on) {
  boost::asio::io_context context;
  boost::asio::ip::tcp::socket untouched(context, boost::asio::ip::tcp::v4());
  boost::asio::ip::tcp::socket socket(context, boost::asio::ip::tcp::v4());
  BOOST_REQUIRE(!cturn::set_dead_peer_options(socket, std::nullopt));
  BOOST_TEST(tcp_option(socket, SO_KEEPALIVE, SOL_SOCKET) == 1);
  for (const int name : {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT})
    BOOST_TEST(tcp_option(socket, name) == tcp_option(untouched, name), "option " << name);
}

BOOST_AUTO_TEST_SUITE_END()
