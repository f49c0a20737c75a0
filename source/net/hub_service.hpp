#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <exception>
#include <utility>

#include "hub/hub_port.hpp"
#include "hub/room_hub.hpp"
#include "log.hpp"

namespace cturn {

// The room hub of a single node, on its own strand: the embedded default.
class hub_service final : public hub_port {
 public:
  explicit hub_service(const boost::asio::any_io_executor& executor)
      : strand_(boost::asio::make_strand(executor)) {}

  hub_service(const hub_service&) = delete;
  hub_service& operator=(const hub_service&) = delete;

  void connect(std::shared_ptr<participant> client) override;
  void submit(std::shared_ptr<participant> client, batch& lines,
              std::chrono::steady_clock::time_point arrived, std::function<void()> done) override;
  void fail(std::shared_ptr<participant> client, protocol_error error) override;
  void registration_deadline(std::shared_ptr<participant> client) override;
  void disconnect(std::shared_ptr<participant> client, disconnect_reason reason) override;
  void shutdown() override;
  metrics::gauges levels() const override {
    return {.connections = 0,
            .users = users_.load(std::memory_order_relaxed),
            .rooms = rooms_.load(std::memory_order_relaxed)};
  }
  bool healthy() const override { return true; }

 private:
  // Runs work(hub) on the hub's strand, later.
  template <typename Work>
  void post(Work work) {
    boost::asio::post(strand_, [this, work = std::move(work)]() mutable { guarded(work); });
  }

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
    users_.store(hub_.user_count(), std::memory_order_relaxed);
    rooms_.store(hub_.room_count(), std::memory_order_relaxed);
  }

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  room_hub hub_;
  std::atomic<std::size_t> users_{0};
  std::atomic<std::size_t> rooms_{0};
};

}  // namespace cturn
