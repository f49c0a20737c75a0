#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace cturn {

// The operators' HTTP endpoint (--metrics): GET /metrics in the Prometheus
// text format, GET /healthz 200 while serving and 503 otherwise (HEAD too).
// Boost.Beast on the server's own io_context: no thread of its own, nothing
// to install. Bounded like a side door must be: at most max_connections at
// once (the next wait in the kernel's backlog), each request and each idle
// keep-alive connection under a deadline, each connection under a lifetime.
class metrics_endpoint {
 public:
  static constexpr std::size_t max_connections = 64;
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
  boost::asio::awaitable<void> wait_for_free_slot();
  void release_slot();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  exposition_source metrics_;
  health_source health_;
  // Both touched on strand_ only. The timer never expires by itself: a
  // connection that ends cancels it to wake the accept loop.
  std::size_t open_connections_ = 0;
  boost::asio::steady_timer slot_freed_;
};

}  // namespace cturn
