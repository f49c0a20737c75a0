#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace cturn {

// A CIDR block: 10.0.0.0/8, 2001:db8::/32; a bare address is a block of one.
class address_range {
 public:
  address_range(const boost::asio::ip::address& network, unsigned prefix_bits);

  // IPv4 addresses seen through an IPv6 listener (::ffff:a.b.c.d) match
  // IPv4 blocks.
  bool contains(const boost::asio::ip::address& address) const;

  std::string to_string() const;

 private:
  boost::asio::ip::address network_;
  unsigned prefix_bits_;
};

// "CIDR[,CIDR…]" (spaces around the commas allowed); empty text: no ranges.
tl::expected<std::vector<address_range>, std::string> parse_address_ranges(std::string_view text);

bool any_contains(const std::vector<address_range>& ranges,
                  const boost::asio::ip::address& address);

}  // namespace cturn
