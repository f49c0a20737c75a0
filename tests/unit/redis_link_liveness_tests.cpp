// A link's stall check against a scripted Redis on loopback (one socket,
// no real Redis): a reply that comes late behind a stream of pushed events
// is a node that is behind, not a stalled link.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "cluster/redis_connection.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Answers the handshake's PING; holds the reply to the next PING back for
// `hold`, while it pushes a `message` every 100 ms; then answers it.
void scripted_redis(tcp::acceptor& acceptor, std::chrono::milliseconds hold) {
  tcp::socket peer = acceptor.accept();
  const auto wait_for_ping = [&] {
    std::string seen;
    char chunk[256];
    while (seen.find("PING") == std::string::npos)
      seen.append(chunk, peer.read_some(asio::buffer(chunk)));
  };
  wait_for_ping();
  asio::write(peer, asio::buffer(std::string("+PONG\r\n")));
  wait_for_ping();
  const std::string push = "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n";
  const auto until = std::chrono::steady_clock::now() + hold;
  while (std::chrono::steady_clock::now() < until) {
    asio::write(peer, asio::buffer(push));
    std::this_thread::sleep_for(100ms);
  }
  asio::write(peer, asio::buffer(std::string("+PONG\r\n")));
  // Open past the test's end: a close would be a loss of its own.
  std::this_thread::sleep_for(3s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_link_liveness)

BOOST_AUTO_TEST_CASE(a_reply_behind_a_stream_of_events_is_not_a_stalled_link) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  // The PING's reply comes 3 s late, past the 2 s deadline; events keep coming.
  std::thread redis([&] {
    try {
      scripted_redis(acceptor, 3s);
    } catch (const boost::system::system_error&) {
      // The link closed its end: it gave up, which the checks below report.
    }
  });

  cturn::redis_connection link(asio::make_strand(io));
  std::string lost;
  int pushed = 0;
  link.on_lost([&](std::string_view why) { lost = why; });
  link.on_push([&](cturn::redis_reply&&) { ++pushed; });
  bool connected = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        connected = co_await link.connect("127.0.0.1", port, "", 1s);
      },
      asio::detached);
  io.run_for(4500ms);
  redis.join();

  BOOST_TEST(connected);
  BOOST_TEST(pushed > 10);
  // Before: "no reply in time", about 2.25 s after the PING.
  BOOST_TEST(lost.empty(), "lost: " << lost);
}

BOOST_AUTO_TEST_SUITE_END()
