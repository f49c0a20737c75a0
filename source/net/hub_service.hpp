#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <exception>
#include <utility>

#include "hub/room_hub.hpp"
#include "log.hpp"

namespace cturn {

// The room hub on its own strand. Sessions never touch the hub directly: they
// post work here, or await it and resume on their own strand.
class hub_service {
 public:
  explicit hub_service(const boost::asio::any_io_executor& executor)
      : strand_(boost::asio::make_strand(executor)) {}

  hub_service(const hub_service&) = delete;
  hub_service& operator=(const hub_service&) = delete;

  // Runs work(hub) on the hub's strand, later.
  template <typename Work>
  void post(Work work) {
    boost::asio::post(strand_, [this, work = std::move(work)]() mutable { guarded(work); });
  }

  // Runs work(hub) on the hub's strand, then completes on the caller's
  // executor (for a coroutine: resumes it on its own strand).
  template <typename Work, typename Token>
  auto run(Work work, Token&& token) {
    return boost::asio::async_initiate<Token, void()>(
        [this](auto handler, Work job) {
          boost::asio::post(strand_,
                            [this, job = std::move(job), handler = std::move(handler)]() mutable {
                              guarded(job);
                              const auto executor = boost::asio::get_associated_executor(handler);
                              boost::asio::dispatch(executor, std::move(handler));
                            });
        },
        token, std::move(work));
  }

 private:
  // A failure inside the hub (allocation, most likely) must not unwind into
  // the I/O threads and take the server down.
  template <typename Work>
  void guarded(Work& work) {
    try {
      work(hub_);
    } catch (...) {
      log_event(log_level::error, "hub-error",
                {{"what", exception_text(std::current_exception())}});
    }
  }

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  room_hub hub_;
};

}  // namespace cturn
