#include "net/server.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <exception>
#include <thread>
#include <vector>

#include "log.hpp"
#include "metrics/metrics.hpp"
#include "net/client_source.hpp"
#include "net/listener.hpp"
#include "net/proxy_header.hpp"
#include "net/session.hpp"
#include "net/supervised.hpp"
#include "net/use_tuple.hpp"
#include "protocol/frame_memory.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// File descriptors kept back from clients for the listener, logs and the
// short-lived sockets that tell extra clients the server is full.
constexpr rlim_t reserved_descriptors = 32;
constexpr auto accept_restart_delay = std::chrono::seconds(1);
constexpr auto turn_away_linger = std::chrono::seconds(1);
// A trusted proxy writes its header at once; a connection that has not
// finished one by then is closed.
constexpr auto proxy_header_timeout = std::chrono::seconds(10);
// Read size while looking for the header: what follows it goes to the session.
constexpr std::size_t proxy_read_bytes = 512;

unsigned available_cores() {
  cpu_set_t cores;
  if (sched_getaffinity(0, sizeof cores, &cores) == 0)
    return std::max(1, CPU_COUNT(&cores));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Raises the soft descriptor limit to the hard one and returns how many
// clients fit under it.
std::size_t descriptor_budget() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur > reserved_descriptors ? limit.rlim_cur - reserved_descriptors : 1;
}

// Hands SIGTERM, SIGINT and SIGHUP from the signal sets, which put back their
// default action (death) when they let go of them, to SIG_IGN, with no moment between
// in which a late second signal could kill a server that is exiting cleanly.
// The signals are blocked meanwhile; the log's thread never takes them, and
// the I/O threads are gone, so one that arrives stays pending and is dropped.
void ignore_handled_signals(asio::signal_set& stop_signals, asio::signal_set& reload_signals) {
  sigset_t handled;
  sigset_t previous;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled, &previous);
  boost::system::error_code ignored;
  stop_signals.clear(ignored);
  reload_signals.clear(ignored);
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

// Tells a client over a connection cap why it is turned away, then closes.
// The close is bounded: a client that neither reads nor closes is cut off.
asio::awaitable<void> refuse_connection(std::shared_ptr<tcp::socket> client, protocol_error why) {
  asio::steady_timer linger(client->get_executor(), turn_away_linger);
  linger.async_wait([client](const boost::system::error_code& error) {
    if (!error)
      client->close();
  });
  const frame notice = encode_error(why);
  co_await asio::async_write(*client, asio::buffer(notice.text()), use_tuple);
  boost::system::error_code ignored;
  client->shutdown(tcp::socket::shutdown_send, ignored);
  char scratch[256];
  for (;;) {
    const auto [error, received] =
        co_await client->async_read_some(asio::buffer(scratch), use_tuple);
    if (error)
      break;
  }
  client->close(ignored);
}

}  // namespace

server::server(server_config config, const hub_factory& make_hub)
    : config_(std::move(config)),
      control_(asio::make_strand(io_)),
      acceptor_(control_),
      signals_(control_, SIGINT, SIGTERM),
      reload_signals_(control_, SIGHUP),
      tls_watch_timer_(control_),
      grace_timer_(control_),
      hub_(make_hub(io_, config_)),
      connections_(std::make_shared<connection_registry>()),
      awaiting_header_(std::make_shared<connection_registry>()),
      sources_(std::make_shared<source_limiter>(config_.max_connections_per_source)),
      output_budget_(io_, config_.max_buffered_bytes) {}

int server::run() {
  if (!config_.tls_certificate_file.empty()) {
    auto identity = load_tls_identity(config_.tls_certificate_file, config_.tls_key_file);
    if (!identity) {
      log_event(log_level::error, "tls-unusable", {{"why", identity.error()}});
      return 2;
    }
    log_event(log_level::info, "tls-ready",
              {{"certificate", config_.tls_certificate_file},
               {"expires", static_cast<std::uint64_t>(identity->expires_at)},
               {"required", config_.tls_required ? "yes" : "no"}});
    tls_ = std::make_unique<tls_identity_store>(config_.tls_certificate_file, config_.tls_key_file,
                                                std::move(*identity));
    if (config_.tls_watch_interval.count() > 0)
      tls_files_ = std::make_unique<file_watch>(
          std::vector{config_.tls_certificate_file, config_.tls_key_file});
  }
  boost::system::error_code error;
  const auto address = asio::ip::make_address(config_.bind_address, error);
  if (error) {
    log_event(log_level::error, "bad-address", {{"address", config_.bind_address}});
    return 1;
  }
  error = open_listener(acceptor_, tcp::endpoint(address, config_.port));
  if (error) {
    log_event(
        log_level::error, "listen-failed",
        {{"address", config_.bind_address}, {"port", config_.port}, {"error", error.message()}});
    return 1;
  }

  const std::size_t budget = descriptor_budget();
  max_connections_ =
      config_.max_connections == 0 ? budget : std::min(config_.max_connections, budget);
  const unsigned threads = config_.threads == 0 ? available_cores() : config_.threads;
  log_event(log_level::info, "listening",
            {{"address", acceptor_.local_endpoint().address().to_string()},
             {"port", acceptor_.local_endpoint().port()},
             {"threads", threads},
             {"max_connections", max_connections_},
             {"max_connections_per_source", sources_->cap()},
             {"max_buffered_bytes", output_budget_.limit()}});

  if (!config_.metrics_host.empty()) {
    metrics_ = std::make_unique<metrics_endpoint>(
        io_,
        [this] {
          metrics::gauges levels = hub_->levels();
          levels.connections = connections_->count();
          levels.tls_certificate_expiry = tls_ ? tls_->expires_at() : 0;
          levels.awaiting_proxy_header = awaiting_header_->count();
          levels.buffered_output_bytes = frame_memory::alive();
          levels.output_budget_bytes = output_budget_.limit();
          return metrics::exposition(metrics::collect(), levels);
        },
        [this]() -> std::optional<std::string> {
          if (draining_.load(std::memory_order_relaxed))
            return "shutting down";
          if (!hub_->healthy())
            return "no redis";
          return std::nullopt;
        });
    if (!metrics_->listen(config_.metrics_host, config_.metrics_port))
      return 1;
    metrics_->start();
  }

  output_budget_.start();
  wait_for_signal();
  wait_for_reload();
  watch_tls_files();
  const auto on_accept_failure = [](const std::exception_ptr& failure) {
    log_event(log_level::error, "accept-failed",
              {{"what", exception_text(failure)}, {"action", "restarting"}});
  };
  asio::co_spawn(
      control_,
      supervised([this] { return accept_loop(); }, accept_restart_delay, on_accept_failure),
      [](const std::exception_ptr& failure) {
        if (failure)
          log_event(log_level::error, "accept-stopped", {{"what", exception_text(failure)}});
      });

  const auto run_io = [this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& failure) {
        log_event(log_level::error, "io-error", {{"what", failure.what()}});
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back(run_io);
  run_io();
  for (auto& worker : workers)
    worker.join();
  ignore_handled_signals(signals_, reload_signals_);
  // Sessions still queued in io_ are destroyed with it, after this object's
  // members: they must not reach for the control strand then.
  connections_->when_empty(nullptr);
  log_event(log_level::info, "stopped");
  return 0;
}

asio::awaitable<void> server::accept_loop() {
  bool exhausted = false;
  for (;;) {
    // A named strand: see session::submit on temporaries in co_await.
    const auto session_strand = asio::make_strand(io_);
    auto [error, socket] = co_await acceptor_.async_accept(session_strand, use_tuple);
    if (!error) {
      if (std::exchange(exhausted, false))
        log_event(log_level::info, "accept-resumed");
      // Even during shutdown: the session tells the client why it closes.
      admit(std::move(socket));
    }
    if (shutting_down_ || error == asio::error::operation_aborted)
      co_return;
    if (error && is_resource_exhaustion(error)) {
      // Out of descriptors or memory: existing clients keep being served;
      // try again shortly instead of spinning on the same error.
      if (!std::exchange(exhausted, true))
        log_event(log_level::warn, "accept-error", {{"error", error.message()}});
      asio::steady_timer pause(control_, accept_retry_delay);
      co_await pause.async_wait(use_tuple);
    }
  }
}

void server::admit(tcp::socket socket) {
  boost::system::error_code error;
  const tcp::endpoint peer = socket.remote_endpoint(error);
  if (error)
    return;  // gone already (reset before it was accepted)
  if (any_contains(config_.trusted_proxies, peer.address())) {
    if (!shutting_down_ && at_connection_limit()) {
      // The proxy passes the notice on to its client, as it would a session's.
      log_event(log_level::warn, "server-full", {{"limit", max_connections_}});
      return turn_away(std::move(socket), metrics::rejection::server_full,
                       protocol_error::server_full);
    }
    auto proxied = std::make_shared<tcp::socket>(std::move(socket));
    asio::co_spawn(proxied->get_executor(),
                   read_proxy_header(proxied, peer, awaiting_header_->acquire()), asio::detached);
    return;
  }
  admit_client(std::move(socket), peer, std::nullopt, {});
}

// Runs on the connection's strand; hands the connection back to the control
// strand once the header says whose it is.
asio::awaitable<void> server::read_proxy_header(std::shared_ptr<tcp::socket> connection,
                                                tcp::endpoint proxy,
                                                connection_registry::slot waiting) {
  asio::steady_timer deadline(connection->get_executor(), proxy_header_timeout);
  deadline.async_wait([connection](const boost::system::error_code& error) {
    if (!error)
      connection->close();
  });
  std::string received;
  std::string_view why;
  for (;;) {
    const std::size_t before = received.size();
    received.resize(before + proxy_read_bytes);
    const auto [error, count] = co_await connection->async_read_some(
        asio::buffer(&received[before], proxy_read_bytes), use_tuple);
    received.resize(before + count);
    if (error) {
      why = error == asio::error::operation_aborted ? "timed out" : "closed before the header";
      break;
    }
    const proxy_header_result parsed = parse_proxy_header(received);
    if (const auto* invalid = std::get_if<proxy_header_invalid>(&parsed)) {
      why = invalid->why;
      break;
    }
    if (const auto* header = std::get_if<proxy_header>(&parsed)) {
      deadline.cancel();
      const tcp::endpoint client = header->client.value_or(proxy);
      received.erase(0, header->length);
      // No longer waiting: the session's own slot replaces this one.
      { const connection_registry::slot done = std::move(waiting); }
      asio::post(control_,
                 [this, connection, client, proxy, early = std::move(received)]() mutable {
                   admit_client(std::move(*connection), client, proxy, std::move(early));
                 });
      co_return;
    }
  }
  deadline.cancel();
  // Nothing is answered: a proxy that sends no header is misconfigured, and
  // its client would not understand an error in the wrong place anyway.
  log_event(
      log_level::warn, "proxy-header-invalid",
      {{"proxy", proxy.address().to_string() + ":" + std::to_string(proxy.port())}, {"why", why}});
  boost::system::error_code ignored;
  connection->close(ignored);
}

void server::admit_client(tcp::socket socket, const tcp::endpoint& client,
                          const std::optional<tcp::endpoint>& proxy, std::string early_input) {
  if (shutting_down_)
    return start_session(std::move(socket), source_limiter::slot(), client, proxy,
                         std::move(early_input));
  if (at_connection_limit()) {
    log_event(log_level::warn, "server-full", {{"limit", max_connections_}});
    return turn_away(std::move(socket), metrics::rejection::server_full,
                     protocol_error::server_full);
  }
  const std::string source = client_source(client.address());
  auto source_slot = sources_->try_acquire(source);
  if (!source_slot) {
    log_event(log_level::warn, "source-limit", {{"source", source}, {"limit", sources_->cap()}});
    return turn_away(std::move(socket), metrics::rejection::source_limit,
                     protocol_error::too_many_from_source);
  }
  start_session(std::move(socket), std::move(*source_slot), client, proxy, std::move(early_input));
}

bool server::at_connection_limit() const {
  return connections_->count() + awaiting_header_->count() >= max_connections_;
}

// During shutdown no cap applies: the session only tells its client that
// the server is going away.
void server::start_session(tcp::socket socket, source_limiter::slot source_slot,
                           const tcp::endpoint& client, const std::optional<tcp::endpoint>& proxy,
                           std::string early_input) {
  std::make_shared<session>(std::move(socket), *hub_, config_,
                            admission{next_id_++, connections_->acquire(), std::move(source_slot),
                                      client, proxy, std::move(early_input)},
                            tls_.get(), &output_budget_)
      ->start();
}

// Connections the kernel has completed but the server has not accepted yet
// would be reset when the listener closes; accept them so that they hear
// `Server shutting down` like everyone else.
void server::admit_backlog() {
  boost::system::error_code error;
  acceptor_.non_blocking(true, error);
  while (!error) {
    tcp::socket socket(asio::make_strand(io_));
    acceptor_.accept(socket, error);
    if (!error)
      admit(std::move(socket));
  }
}

void server::turn_away(tcp::socket socket, metrics::rejection reason, protocol_error why) {
  metrics::local().rejected[static_cast<std::size_t>(reason)].add();
  metrics::count_error(why);
  auto client = std::make_shared<tcp::socket>(std::move(socket));
  asio::co_spawn(client->get_executor(), refuse_connection(client, why), asio::detached);
}

void server::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& error, int signal_number) {
    if (error)
      return;
    if (shutting_down_) {
      log_event(log_level::warn, "signal-ignored",
                {{"signal", static_cast<std::uint64_t>(signal_number)},
                 {"why", "already shutting down"}});
    } else {
      log_event(log_level::info, "shutdown",
                {{"signal", static_cast<std::uint64_t>(signal_number)}});
      begin_shutdown();
    }
    wait_for_signal();
  });
}

// Every setting but the TLS certificate and key is read once, at start.
// SIGHUP must never kill (its default action): `systemctl reload` and
// `kill -HUP` are routine, and a terminal that closes sends it too.
void server::wait_for_reload() {
  reload_signals_.async_wait([this](const boost::system::error_code& error, int) {
    if (error)
      return;
    if (tls_files_)
      tls_files_->mark_seen();
    reload("SIGHUP");
    wait_for_reload();
  });
}

// Renewals (certbot, an ACME client, a Kubernetes secret) replace the files
// without telling anyone: each change found is one reload, as by SIGHUP.
void server::watch_tls_files() {
  if (!tls_files_)
    return;
  tls_watch_timer_.expires_after(config_.tls_watch_interval);
  tls_watch_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || shutting_down_)
      return;
    if (tls_files_->changed())
      reload("file-changed");
    watch_tls_files();
  });
}

void server::reload(std::string_view cause) {
  if (!tls_) {
    log_event(log_level::info, "reload",
              {{"cause", cause},
               {"reloaded", "nothing"},
               {"why", "settings are read at start; restart to change them"}});
    return;
  }
  log_event(log_level::info, "reload",
            {{"cause", cause}, {"reloaded", "the TLS certificate and key"}});
  const auto reloaded = tls_->reload();
  if (reloaded) {
    log_event(log_level::info, "tls-reloaded",
              {{"certificate", config_.tls_certificate_file},
               {"expires", static_cast<std::uint64_t>(*reloaded)}});
  } else {
    log_event(log_level::warn, "tls-reload-failed",
              {{"why", reloaded.error()}, {"kept", "the certificate in use"}});
  }
}

void server::begin_shutdown() {
  shutting_down_ = true;
  draining_.store(true, std::memory_order_relaxed);
  admit_backlog();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  tls_watch_timer_.cancel();
  hub_->shutdown();
  // Every session counts, also those the hub turns away from now on. Armed
  // from a handler queued behind the accept loop's last completion (which
  // closing the acceptor has queued, or which was already waiting): a
  // connection accepted just before the signal becomes a session first,
  // instead of finding the drain already over.
  asio::post(control_, [this] {
    connections_->when_empty(
        [this] { asio::post(control_, [this] { finish("all clients closed"); }); });
  });
  grace_timer_.expires_after(config_.shutdown_grace);
  grace_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error)
      finish("grace period over");
  });
}

void server::finish(std::string_view why) {
  if (std::exchange(finished_, true))
    return;
  log_event(log_level::info, "shutdown-complete", {{"why", why}});
  io_.stop();
}

}  // namespace cturn
