#include "net/probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>

namespace cturn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto probe_timeout = std::chrono::seconds(3);

// A wildcard listener also takes IPv4 loopback, which exists even where IPv6
// is disabled (Docker's default network).
asio::ip::address probe_address(const std::string& bind_address) {
  auto address = asio::ip::make_address(bind_address);
  if (address.is_unspecified())
    return asio::ip::address_v4::loopback();
  return address;
}

std::string text_of(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

// Random, so that nobody can make the probe fail by holding its name.
std::string probe_username() {
  std::random_device entropy;
  std::uniform_int_distribution<std::uint64_t> number;
  return "cturn-probe-" + std::to_string(number(entropy));
}

// Connects, then starts `send(done)`, then `receive(done)`, each calling
// done(error) when it completes; gives up after probe_timeout. Returns what
// went wrong, or nothing once the answer is in.
template <typename Send, typename Receive>
std::optional<std::string> exchange(asio::io_context& io, tcp::socket& socket,
                                    const tcp::endpoint& server, Send send, Receive receive) {
  boost::system::error_code failure;
  socket.async_connect(server, [&](const boost::system::error_code& connect_error) {
    if (connect_error) {
      failure = connect_error;
      return;
    }
    send([&](const boost::system::error_code& send_error) {
      if (send_error) {
        failure = send_error;
        return;
      }
      receive([&](const boost::system::error_code& receive_error) { failure = receive_error; });
    });
  });
  io.run_for(probe_timeout);
  if (!io.stopped())
    return "no answer within 3 s";
  if (failure)
    return failure.message();
  return std::nullopt;
}

// With metrics on, /healthz knows more than a protocol answer can: a cluster
// node that lost Redis still answers (`Server unavailable`) but is not
// healthy, and a server that is shutting down is on its way out.
int probe_health_endpoint(const server_config& config) {
  namespace http = boost::beast::http;
  try {
    asio::io_context io;
    tcp::socket socket(io);
    boost::beast::flat_buffer buffer;
    http::request<http::empty_body> request(http::verb::get, "/healthz", 11);
    request.set(http::field::host, "localhost");
    http::response<http::string_body> response;
    const tcp::endpoint endpoint(probe_address(config.metrics_host), config.metrics_port);
    // Every message names what was probed, so that a failing health check
    // says where it looked.
    const std::string probed = "GET http://" + text_of(endpoint) + "/healthz";
    const auto send = [&](auto done) {
      http::async_write(
          socket, request,
          [done](const boost::system::error_code& error, std::size_t) { done(error); });
    };
    const auto receive = [&](auto done) {
      http::async_read(
          socket, buffer, response,
          [done](const boost::system::error_code& error, std::size_t) { done(error); });
    };
    if (const auto failure = exchange(io, socket, endpoint, send, receive)) {
      std::cerr << "cturn-server --check: " << probed << ": " << *failure << "\n";
      return 1;
    }
    if (response.result() != http::status::ok) {
      std::cerr << "cturn-server --check: " << probed << ": " << response.result_int() << " "
                << response.body();
      return 1;
    }
    std::cout << "ok: " << probed << ": " << response.body();
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "cturn-server --check: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace

int probe_server(const server_config& config) {
  // Port 0 (a free port, chosen at start) cannot be found from outside.
  if (!config.metrics_host.empty() && config.metrics_port != 0)
    return probe_health_endpoint(config);
  try {
    asio::io_context io;
    tcp::socket socket(io);
    std::string reply;
    const tcp::endpoint server(probe_address(config.bind_address), config.port);
    const std::string probed = "protocol probe (username) of " + text_of(server);
    const std::string request =
        R"({"type":"username","body":{"content":")" + probe_username() + "\"}}\n";
    const auto send = [&](auto done) {
      asio::async_write(
          socket, asio::buffer(request),
          [done](const boost::system::error_code& error, std::size_t) { done(error); });
    };
    const auto receive = [&](auto done) {
      asio::async_read_until(
          socket, asio::dynamic_buffer(reply, 4096), '\n',
          [done](const boost::system::error_code& error, std::size_t) { done(error); });
    };
    if (const auto failure = exchange(io, socket, server, send, receive)) {
      std::cerr << "cturn-server --check: " << probed << ": " << *failure << "\n";
      return 1;
    }
    // Any protocol answer proves the server is serving: a welcome, or an error
    // such as `Server full` or a taken name.
    if (reply.find(R"("type":"welcome")") != std::string::npos ||
        reply.find(R"("type":"error")") != std::string::npos) {
      std::cout << "ok: " << probed << ": " << reply;
      return 0;
    }
    std::cerr << "cturn-server --check: " << probed << ": unexpected reply: " << reply;
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "cturn-server --check: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace cturn
