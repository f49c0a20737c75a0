#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "dead_peer_timing.hpp"

namespace cturn {

// Turns on TCP keepalive for `socket` and, given timings, sets them with
// TCP_USER_TIMEOUT on this socket alone (the system-wide sysctls stay as they
// are). Without timings the kernel's defaults apply. Returns the first error;
// the options already set stay set.
boost::system::error_code set_dead_peer_options(boost::asio::ip::tcp::socket& socket,
                                                const std::optional<dead_peer_timing>& timing);

}  // namespace cturn
