// cturn-asio-ssl-idle: what an idle TLS connection costs through Asio's
// ssl::stream, for bench/tls-idle-memory to set beside the server's own TLS.
//
//   cturn-asio-ssl-idle CERT KEY     prints its port, then serves until killed
//
// Each connection: a handshake, then one line answered per line received (so
// that the registering client sees a reply), with one async_read_some always
// pending into a 256-byte buffer of its own: the least an Asio TLS session
// could hold while idle. The context is set up as the server's is where it
// matters for memory (released buffers, no tickets, no session cache).

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <cstddef>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::string_view reply_line = "{\"type\":\"welcome\",\"body\":{\"content\":\"ok\"}}\n";

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, asio::ssl::context& context)
      : stream_(std::move(socket), context) {}

  void start() {
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](const boost::system::error_code& error) {
                              if (!error)
                                self->read();
                            });
  }

 private:
  void read() {
    stream_.async_read_some(
        asio::buffer(input_),
        [self = shared_from_this()](const boost::system::error_code& error, std::size_t count) {
          if (!error)
            self->answer(count);
        });
  }

  void answer(std::size_t count) {
    const auto lines = std::count(input_.begin(), input_.begin() + static_cast<long>(count), '\n');
    if (lines == 0)
      return read();
    auto reply = std::make_shared<std::string>();
    for (long i = 0; i < lines; ++i)
      reply->append(reply_line);
    asio::async_write(
        stream_, asio::buffer(*reply),
        [self = shared_from_this(), reply](const boost::system::error_code& error, std::size_t) {
          if (!error)
            self->read();
        });
  }

  asio::ssl::stream<tcp::socket> stream_;
  std::array<char, 256> input_{};
};

void accept(tcp::acceptor& acceptor, asio::ssl::context& context) {
  acceptor.async_accept([&](const boost::system::error_code& error, tcp::socket socket) {
    if (!error)
      std::make_shared<connection>(std::move(socket), context)->start();
    accept(acceptor, context);
  });
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 3) {
    std::cerr << "usage: cturn-asio-ssl-idle CERT KEY\n";
    return 2;
  }
  try {
    asio::io_context io;
    asio::ssl::context context(asio::ssl::context::tls_server);
    context.use_certificate_chain_file(argv[1]);
    context.use_private_key_file(argv[2], asio::ssl::context::pem);
    SSL_CTX_set_mode(context.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_num_tickets(context.native_handle(), 0);
    SSL_CTX_set_session_cache_mode(context.native_handle(), SSL_SESS_CACHE_OFF);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::cout << acceptor.local_endpoint().port() << std::endl;
    accept(acceptor, context);
    io.run();
  } catch (const std::exception& failure) {
    std::cerr << "cturn-asio-ssl-idle: " << failure.what() << "\n";
    return 1;
  }
  return 0;
}
