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

#include "log.hpp"
#include "net/listener.hpp"
#include "net/use_tuple.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
// A scraper that stalls is cut off; Prometheus scrapes with a 10 s timeout.
constexpr auto request_timeout = std::chrono::seconds(10);

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
      health_(std::move(health)) {}

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
  });
}

asio::awaitable<void> metrics_endpoint::accept_loop() {
  for (;;) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
    if (error == asio::error::operation_aborted || !acceptor_.is_open())
      co_return;
    if (error)
      continue;
    const auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket)), log_failure);
  }
}

asio::awaitable<void> metrics_endpoint::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::empty_body> request;
    stream.expires_after(request_timeout);
    const auto [read_error, ignored] =
        co_await http::async_read(stream, buffer, request, use_tuple);
    if (read_error)
      co_return;

    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    const std::string_view target(request.target().data(), request.target().size());
    if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET");
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
    const auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    if (write_error || !response.keep_alive())
      break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace cturn
