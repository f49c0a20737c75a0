#include "net/listener.hpp"

#include <cerrno>

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

bool is_resource_exhaustion(const boost::system::error_code& error) {
  namespace error_codes = boost::asio::error;
  return error == error_codes::no_descriptors || error == error_codes::no_buffer_space ||
         error == error_codes::no_memory || error.value() == ENFILE;
}

}  // namespace cturn
