#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <utility>

namespace cturn {

// Runs the coroutine that `start()` makes; when one ends with an exception,
// `on_failure(exception_ptr)` hears of it and a fresh one starts after
// `pause`. Supervision ends when a run returns normally. For loops that must
// outlive their own faults, such as the accept loop: a listener that dies
// quietly leaves a server that looks alive and refuses everyone.
template <typename Start, typename OnFailure>
boost::asio::awaitable<void> supervised(Start start, std::chrono::steady_clock::duration pause,
                                        OnFailure on_failure) {
  for (;;) {
    std::exception_ptr failure;
    try {
      co_await start();
      co_return;
    } catch (...) {
      failure = std::current_exception();
    }
    on_failure(failure);
    boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor, pause);
    co_await wait.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace cturn
