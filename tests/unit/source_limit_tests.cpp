#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/client_source.hpp"
#include "net/source_limiter.hpp"

using cturn::client_source;
using cturn::source_limiter;

namespace {

std::string source_of(const char* address) {
  return client_source(boost::asio::ip::make_address(address));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(source_limit_suite)

BOOST_AUTO_TEST_CASE(an_ipv4_address_is_its_own_source) {
  BOOST_TEST(source_of("203.0.113.7") == "203.0.113.7");
  BOOST_TEST(source_of("203.0.113.7") != source_of("203.0.113.8"));
}

BOOST_AUTO_TEST_CASE(an_ipv6_address_counts_as_its_slash_64) {
  BOOST_TEST(source_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
  BOOST_TEST(source_of("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64");
  BOOST_TEST(source_of("2001:db8:1:3::1") == "2001:db8:1:3::/64");
}

BOOST_AUTO_TEST_CASE(an_ipv4_mapped_address_counts_as_ipv4) {
  BOOST_TEST(source_of("::ffff:198.51.100.1") == "198.51.100.1");
}

BOOST_AUTO_TEST_CASE(refuses_past_the_cap_and_frees_on_release) {
  const auto limiter = std::make_shared<source_limiter>(2);
  auto first = limiter->try_acquire("a");
  auto second = limiter->try_acquire("a");
  BOOST_TEST(first.has_value());
  BOOST_TEST(second.has_value());
  BOOST_TEST(!limiter->try_acquire("a").has_value());
  BOOST_TEST(limiter->try_acquire("b").has_value());  // another source is not affected
  second.reset();
  BOOST_TEST(limiter->try_acquire("a").has_value());
}

BOOST_AUTO_TEST_CASE(forgets_a_source_with_no_slot_left) {
  const auto limiter = std::make_shared<source_limiter>(1);
  {
    const auto held = limiter->try_acquire("a");
    BOOST_TEST(limiter->sources() == 1u);
  }
  BOOST_TEST(limiter->sources() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cap_of_zero_is_off) {
  const auto limiter = std::make_shared<source_limiter>(0);
  std::vector<source_limiter::slot> held;
  for (int i = 0; i < 1000; ++i) {
    auto next = limiter->try_acquire("a");
    BOOST_REQUIRE(next.has_value());
    held.push_back(std::move(*next));
  }
  BOOST_TEST(limiter->sources() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
