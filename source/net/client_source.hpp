#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>

namespace cturn {

// The unit a per-source limit counts, in printable form (it is also what the
// log shows): an IPv4 address as it is, an IPv6 address as the /64 it lies in
// ("2001:db8:1:2::/64"), since one subscriber is routinely given a whole /64
// and could otherwise pick a fresh address for every connection. An IPv4
// address seen through an IPv6 listener (::ffff:a.b.c.d) counts as IPv4.
std::string client_source(const boost::asio::ip::address& address);

}  // namespace cturn
