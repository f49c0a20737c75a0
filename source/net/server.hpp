#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "hub/hub_port.hpp"
#include "metrics/metrics.hpp"
#include "net/connection_registry.hpp"
#include "net/file_watch.hpp"
#include "net/metrics_endpoint.hpp"
#include "net/output_budget.hpp"
#include "net/source_limiter.hpp"
#include "net/tls_context.hpp"

namespace cturn {

// Makes the hub the sessions talk to, on the server's io_context. Only the
// composition root (main.cpp) knows which hubs there are.
using hub_factory =
    std::function<std::unique_ptr<hub_port>(boost::asio::io_context&, const server_config&)>;

// The listener, the I/O threads, the signal handling and the shutdown
// sequence. run() blocks until the server has stopped.
class server {
 public:
  server(server_config config, const hub_factory& make_hub);

  // 0 after a clean shutdown; 1 when the listener cannot be set up; 2 when
  // the TLS certificate or key cannot be used.
  int run();

 private:
  boost::asio::awaitable<void> accept_loop();
  void admit(boost::asio::ip::tcp::socket socket);
  void admit_backlog();
  boost::asio::awaitable<void> read_proxy_header(
      std::shared_ptr<boost::asio::ip::tcp::socket> connection,
      boost::asio::ip::tcp::endpoint proxy, connection_registry::slot waiting);
  bool at_connection_limit() const;
  void admit_client(boost::asio::ip::tcp::socket socket,
                    const boost::asio::ip::tcp::endpoint& client,
                    const std::optional<boost::asio::ip::tcp::endpoint>& proxy,
                    std::string early_input);
  void start_session(boost::asio::ip::tcp::socket socket, source_limiter::slot source_slot,
                     const boost::asio::ip::tcp::endpoint& client,
                     const std::optional<boost::asio::ip::tcp::endpoint>& proxy,
                     std::string early_input);
  void turn_away(boost::asio::ip::tcp::socket socket, metrics::rejection reason,
                 protocol_error why);
  void wait_for_signal();
  void wait_for_reload();
  // Polls the TLS files every config_.tls_watch_interval; a change reloads.
  void watch_tls_files();
  // SIGHUP or a changed TLS file (`cause`, for the log): reloads what can be
  // reloaded (the TLS certificate and key).
  void reload(std::string_view cause);
  void begin_shutdown();
  void finish(std::string_view why);

  // Declared first so it is destroyed last: sessions still queued in it must
  // find nothing else of the server when they are destroyed.
  boost::asio::io_context io_;
  server_config config_;
  boost::asio::strand<boost::asio::io_context::executor_type> control_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  // SIGHUP, which by default kills: see reload in docs/server-interface.md.
  boost::asio::signal_set reload_signals_;
  boost::asio::steady_timer tls_watch_timer_;
  boost::asio::steady_timer grace_timer_;
  std::unique_ptr<hub_port> hub_;
  std::unique_ptr<metrics_endpoint> metrics_;
  // Null when TLS is off.
  std::unique_ptr<tls_identity_store> tls_;
  // The TLS files as last read; null when TLS or the watch is off.
  std::unique_ptr<file_watch> tls_files_;
  // Read by the metrics endpoint's /healthz from its own strand.
  std::atomic<bool> draining_{false};
  std::shared_ptr<connection_registry> connections_;
  // Connections from a trusted proxy until their PROXY header is read: they
  // hold descriptors too, so they count toward max_connections_.
  std::shared_ptr<connection_registry> awaiting_header_;
  std::shared_ptr<source_limiter> sources_;
  output_budget output_budget_;
  std::size_t max_connections_ = 0;
  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  bool finished_ = false;
};

}  // namespace cturn
