#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace cturn {

// A connection whose queued output the budget may shed.
class output_holder {
 public:
  virtual ~output_holder() = default;
  // Bytes of frames queued for this connection and not yet written.
  virtual std::size_t queued_output_bytes() const noexcept = 0;
  // Ends the connection because the server is over its budget. Any thread.
  virtual void shed() noexcept = 0;
};

// One connection's queued output, as the budget sees it.
struct queued_output {
  std::uint64_t id = 0;
  std::size_t bytes = 0;
};

// Whom to shed when `alive` bytes of frames are held against a budget of
// `limit`: the biggest queues first, until what they hold covers the excess.
// A queue's frames may be shared with others, so shedding it can free less
// than it holds; the next check then sheds more. No I/O: unit-tested.
std::vector<std::uint64_t> choose_to_shed(std::size_t alive, std::size_t limit,
                                          std::vector<queued_output> queues);

// The server-wide bound on memory held by frames waiting to be written
// (--max-buffered-bytes). The per-client cap (--max-output-bytes) bounds one
// queue; with ten thousand clients those caps add up to tens of gigabytes,
// more than a machine has. A timer compares what the frames hold
// (frame_memory::alive()) with the budget every `check_period` and sheds the
// biggest consumers first. Checking on a timer rather than on every delivery
// keeps the delivery path free of a shared counter; what can pile up between
// two checks is one period's worth of output.
class output_budget {
 public:
  static constexpr std::chrono::milliseconds check_period{50};

  // `limit_bytes` 0: no budget, nothing is checked.
  output_budget(boost::asio::io_context& io, std::size_t limit_bytes);

  void start();
  void stop();

  void enroll(std::uint64_t id, std::weak_ptr<output_holder> holder);
  void withdraw(std::uint64_t id) noexcept;

  std::size_t limit() const { return limit_; }

 private:
  void schedule();
  void check();

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  const std::size_t limit_;
  bool stopped_ = false;
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<output_holder>> holders_;
};

}  // namespace cturn
