#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "log.hpp"
#include "net/supervised.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(supervised)

BOOST_AUTO_TEST_CASE(a_failing_loop_is_restarted_after_the_pause) {
  asio::io_context io;
  int runs = 0;
  std::vector<std::string> failures;
  bool finished = false;
  // Fails twice, the second time after a suspension, then ends normally.
  const auto loop = [&]() -> asio::awaitable<void> {
    ++runs;
    if (runs == 1)
      throw std::runtime_error("injected at start");
    co_await asio::post(asio::use_awaitable);
    if (runs == 2)
      throw std::runtime_error("injected after a suspension");
  };
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(io,
                 cturn::supervised(loop, 20ms,
                                   [&](const std::exception_ptr& failure) {
                                     failures.push_back(cturn::exception_text(failure));
                                   }),
                 [&](const std::exception_ptr& failure) { finished = !failure; });
  io.run();
  BOOST_TEST(runs == 3);
  BOOST_TEST(failures ==
             (std::vector<std::string>{"injected at start", "injected after a suspension"}));
  BOOST_TEST(finished);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST((elapsed >= 40ms), "two pauses of 20 ms between the runs");
}

BOOST_AUTO_TEST_CASE(a_loop_that_returns_is_not_restarted) {
  asio::io_context io;
  int runs = 0;
  int failures = 0;
  const auto loop = [&]() -> asio::awaitable<void> {
    ++runs;
    co_return;
  };
  asio::co_spawn(io, cturn::supervised(loop, 1ms, [&](const std::exception_ptr&) { ++failures; }),
                 [](const std::exception_ptr&) {});
  io.run();
  BOOST_TEST(runs == 1);
  BOOST_TEST(failures == 0);
}

BOOST_AUTO_TEST_SUITE_END()
