#include "net/metrics_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <utility>

#include "log.hpp"
#include "net/listener.hpp"
#include "net/use_tuple.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
// A request must have arrived whole this long after the connection became
// idle (accepted, or its last answer written); an answer must be written
// within as long. Prometheus sends its request at once, and opens a new
// connection when an idle one was closed.
constexpr auto request_timeout = std::chrono::seconds(5);
// However busy a keep-alive connection is, it is closed after its answer
// once it is this old, so that trickled requests cannot hold it for ever.
constexpr auto connection_lifetime = std::chrono::seconds(30);

void log_failure(const std::exception_ptr& failure) {
  if (failure)
    log_event(log_level::warn, "metrics-error", {{"what", exception_text(failure)}});
}

}  // namespace

metrics_endpoint::metrics_endpoint(asio::io_context& io, exposition_source metrics,
                                   health_source health)
    : io_(io),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      metrics_(std::move(metrics)),
      health_(std::move(health)),
      slot_freed_(strand_) {}

bool metrics_endpoint::listen(const std::string& address, std::uint16_t port) {
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(address, error);
  if (!error)
    error = open_listener(acceptor_, tcp::endpoint(ip, port));
  if (error) {
    log_event(log_level::error, "metrics-listen-failed",
              {{"address", address}, {"port", port}, {"error", error.message()}});
    return false;
  }
  log_event(log_level::info, "metrics-listening",
            {{"address", acceptor_.local_endpoint().address().to_string()},
             {"port", acceptor_.local_endpoint().port()}});
  return true;
}

void metrics_endpoint::start() {
  asio::co_spawn(strand_, accept_loop(), log_failure);
}

void metrics_endpoint::stop() {
  asio::post(strand_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    slot_freed_.cancel();
  });
}

asio::awaitable<void> metrics_endpoint::accept_loop() {
  bool exhausted = false;
  for (;;) {
    co_await wait_for_free_slot();
    if (!acceptor_.is_open())
      co_return;
    auto [error, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
    if (error == asio::error::operation_aborted || !acceptor_.is_open())
      co_return;
    if (error) {
      if (is_resource_exhaustion(error)) {
        if (!std::exchange(exhausted, true))
          log_event(log_level::warn, "metrics-accept-error", {{"error", error.message()}});
        asio::steady_timer pause(strand_, accept_retry_delay);
        co_await pause.async_wait(use_tuple);
      }
      continue;
    }
    if (std::exchange(exhausted, false))
      log_event(log_level::info, "metrics-accept-resumed");
    ++open_connections_;
    const auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket)), [this](const std::exception_ptr& failure) {
      log_failure(failure);
      asio::post(strand_, [this] { release_slot(); });
    });
  }
}

asio::awaitable<void> metrics_endpoint::wait_for_free_slot() {
  while (open_connections_ >= max_connections && acceptor_.is_open()) {
    slot_freed_.expires_at(asio::steady_timer::time_point::max());
    co_await slot_freed_.async_wait(use_tuple);
  }
}

void metrics_endpoint::release_slot() {
  --open_connections_;
  slot_freed_.cancel();
}

asio::awaitable<void> metrics_endpoint::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  const auto retire_at = std::chrono::steady_clock::now() + connection_lifetime;
  for (;;) {
    http::request<http::empty_body> request;
    stream.expires_after(request_timeout);
    const auto [read_error, ignored] =
        co_await http::async_read(stream, buffer, request, use_tuple);
    if (read_error)
      co_return;

    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive() && std::chrono::steady_clock::now() < retire_at);
    const std::string_view target(request.target().data(), request.target().size());
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET, HEAD");
    } else if (target == "/metrics") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = metrics_();
    } else if (target == "/healthz") {
      const auto unhealthy = health_();
      response.result(unhealthy ? http::status::service_unavailable : http::status::ok);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = unhealthy ? *unhealthy + "\n" : "ok\n";
    } else {
      response.result(http::status::not_found);
      response.body() = "not found\n";
    }
    response.prepare_payload();
    stream.expires_after(request_timeout);
    // HEAD: the headers GET would have sent, Content-Length included.
    http::response_serializer<http::string_body> serializer(response);
    const auto [write_error, written] =
        head ? co_await http::async_write_header(stream, serializer, use_tuple)
             : co_await http::async_write(stream, serializer, use_tuple);
    if (write_error || !response.keep_alive())
      break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace cturn
