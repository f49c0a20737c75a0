#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace cturn {

// Opens, binds and starts `acceptor` listening on `endpoint`, with
// SO_REUSEADDR so that a restarted server does not wait out TIME_WAIT. The
// client port and the metrics endpoint open theirs the same way.
boost::system::error_code open_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                        const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace cturn
