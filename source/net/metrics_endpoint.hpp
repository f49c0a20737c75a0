#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <optional>
#include <string>

namespace cturn {

// The operators' HTTP endpoint (--metrics): GET /metrics in the Prometheus
// text format, GET /healthz 200 while serving and 503 otherwise. Boost.Beast
// on the server's own io_context: no thread of its own, nothing to install.
class metrics_endpoint {
 public:
  // The exposition text; a reason not to be healthy, or nullopt.
  using exposition_source = std::function<std::string()>;
  using health_source = std::function<std::optional<std::string>()>;

  metrics_endpoint(boost::asio::io_context& io, exposition_source metrics, health_source health);

  // Binds and listens; false (and logs) on failure.
  bool listen(const std::string& address, std::uint16_t port);
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  exposition_source metrics_;
  health_source health_;
};

}  // namespace cturn
