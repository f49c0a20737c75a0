#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "address_range.hpp"

using cturn::parse_address_ranges;

namespace {

bool trusted(const std::string& ranges, const char* address) {
  const auto parsed = parse_address_ranges(ranges);
  BOOST_REQUIRE(parsed.has_value());
  return cturn::any_contains(*parsed, boost::asio::ip::make_address(address));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(address_range_suite)

BOOST_AUTO_TEST_CASE(ipv4_blocks) {
  BOOST_TEST(trusted("10.0.0.0/8", "10.255.1.2"));
  BOOST_TEST(!trusted("10.0.0.0/8", "11.0.0.1"));
  BOOST_TEST(trusted("172.16.0.0/12", "172.31.255.255"));
  BOOST_TEST(!trusted("172.16.0.0/12", "172.32.0.0"));
  BOOST_TEST(trusted("0.0.0.0/0", "203.0.113.1"));
  BOOST_TEST(trusted("127.0.0.1", "127.0.0.1"));  // a bare address is a /32
  BOOST_TEST(!trusted("127.0.0.1", "127.0.0.2"));
}

BOOST_AUTO_TEST_CASE(ipv6_blocks) {
  BOOST_TEST(trusted("2001:db8::/32", "2001:db8:ffff::1"));
  BOOST_TEST(!trusted("2001:db8::/32", "2001:db9::1"));
  BOOST_TEST(trusted("::1", "::1"));
  BOOST_TEST(!trusted("::1", "127.0.0.1"));
}

BOOST_AUTO_TEST_CASE(an_ipv4_peer_on_an_ipv6_listener_matches_ipv4_blocks) {
  BOOST_TEST(trusted("10.0.0.0/8", "::ffff:10.1.2.3"));
}

BOOST_AUTO_TEST_CASE(lists) {
  BOOST_TEST(trusted("10.0.0.0/8, 192.168.0.0/16,::1", "192.168.4.4"));
  BOOST_TEST(trusted("10.0.0.0/8, 192.168.0.0/16,::1", "::1"));
  BOOST_TEST(!trusted("", "10.0.0.1"));
  BOOST_TEST(parse_address_ranges("  ")->empty());
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
  for (const char* text : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "example.org",
                           "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/-1", "10.0.0.0/08x"}) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(!parse_address_ranges(text).has_value());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
