#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>

namespace cturn {

// Opens, binds and starts `acceptor` listening on `endpoint`, with
// SO_REUSEADDR so that a restarted server does not wait out TIME_WAIT. The
// client port and the metrics endpoint open theirs the same way.
boost::system::error_code open_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                        const boost::asio::ip::tcp::endpoint& endpoint);

// accept() failed for lack of descriptors or memory: the listener waits
// accept_retry_delay and tries again, instead of spinning on the same error.
bool is_resource_exhaustion(const boost::system::error_code& error);
inline constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

}  // namespace cturn
