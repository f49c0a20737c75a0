#include "net/listener.hpp"

namespace cturn {

boost::system::error_code open_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                        const boost::asio::ip::tcp::endpoint& endpoint) {
  using boost::asio::ip::tcp;
  boost::system::error_code error;
  acceptor.open(endpoint.protocol(), error);
  if (!error)
    acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error)
    acceptor.bind(endpoint, error);
  if (!error)
    acceptor.listen(boost::asio::socket_base::max_listen_connections, error);
  return error;
}

}  // namespace cturn
