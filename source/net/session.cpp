#include "net/session.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <new>
#include <span>

#include "log.hpp"
#include "metrics/metrics.hpp"
#include "net/hub_port.hpp"
#include "net/rate_limiter.hpp"
#include "protocol/line_framer.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How much to read at a time: starts small, so that a connection that only
// registers and idles holds a small buffer, and doubles while reads fill the
// space offered, so that busy connections make few system calls.
class read_sizer {
 public:
  std::size_t next() const { return size_; }
  void record(std::size_t received, std::size_t offered) {
    if (received == offered)
      size_ = std::min(size_ * 2, largest);
  }

 private:
  static constexpr std::size_t smallest = 256;
  static constexpr std::size_t largest = 64 * 1024;
  std::size_t size_ = smallest;
};

std::string_view describe(const boost::system::error_code& error) {
  if (error == asio::error::eof)
    return "eof";
  if (error == asio::error::connection_reset)
    return "reset";
  if (error == asio::error::broken_pipe)
    return "broken pipe";
  if (error == asio::error::timed_out)
    return "keepalive timeout";
  if (error == asio::error::operation_aborted || error == asio::error::bad_descriptor)
    return "closed";
  return "network error";
}

}  // namespace

session::session(tcp::socket socket, hub_port& hub, const server_config& config, admission admitted)
    : socket_(std::move(socket)),
      hub_(hub),
      config_(config),
      id_(admitted.id),
      admitted_(std::move(admitted)),
      writer_wakeup_(socket_.get_executor()),
      deadline_(socket_.get_executor()) {}

void session::start() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->begin(); });
}

void session::begin() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  const auto text_of = [](const tcp::endpoint& endpoint) {
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  };
  if (admitted_.proxy) {
    log_event(
        log_level::info, "connect",
        {{"id", id_}, {"peer", text_of(admitted_.client)}, {"via", text_of(*admitted_.proxy)}});
  } else {
    log_event(log_level::info, "connect", {{"id", id_}, {"peer", text_of(admitted_.client)}});
  }

  hub_.connect(shared_from_this());

  if (config_.username_timeout.count() > 0) {
    deadline_.expires_after(config_.username_timeout);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error)
        return;
      self->hub_.registration_deadline(self);
    });
  }

  spawn(read_loop());
  spawn(write_loop());
}

void session::spawn(asio::awaitable<void> task) {
  const auto on_exit = [self = shared_from_this()](const std::exception_ptr& failure) {
    if (!failure)
      return;
    log_event(log_level::error, "session-error",
              {{"id", self->id_}, {"what", exception_text(failure)}});
    self->stop("internal error");
  };
  asio::co_spawn(socket_.get_executor(), std::move(task),
                 asio::bind_executor(socket_.get_executor(), on_exit));
}

asio::awaitable<void> session::read_loop() {
  const auto self = shared_from_this();
  rate_limiter limiter(config_.rate_limit, config_.rate_burst, rate_limiter::clock::now());
  read_sizer sizer;
  line_framer framer(config_.max_line_bytes);
  std::vector<tl::expected<command, protocol_error>> batch;

  // The framer's buffer grows here, in the coroutine, so that a failed
  // allocation ends this session through spawn()'s handler instead of
  // unwinding out of an I/O thread and leaving a ghost.
  for (;;) {
    if (framer.too_long()) {
      stop_reason_ = "line too long";
      hub_.fail(self, protocol_error::message_too_long);
      co_return co_await discard_input();
    }
    // What came with a PROXY header is handled before anything is read.
    if (!take_early_input(framer)) {
      const std::span<char> space = framer.prepare(sizer.next());
      const auto [error, received] =
          co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), use_tuple);
      framer.commit(received);
      sizer.record(received, space.size());
      if (stopped_)
        co_return;
      if (error)
        co_return stop(describe(error));
      metrics::local().bytes_received.add(received);
    }
    const auto arrived = std::chrono::steady_clock::now();

    // The decoded commands are views into the framer's buffer, which stays
    // untouched until the hub has handled them.
    while (const auto line = framer.next_line()) {
      if (const auto wait = limiter.take(rate_limiter::clock::now()); wait.count() > 0) {
        // Back-pressure: hand over what is decoded, then stop reading a while.
        co_await submit(batch, arrived);
        asio::steady_timer pause(socket_.get_executor(), wait);
        co_await pause.async_wait(use_tuple);
        if (stopped_)
          co_return;
      }
      batch.push_back(decode(*line));
      if (batch.back())
        metrics::local().commands[batch.back()->index()].add();
    }
    co_await submit(batch, arrived);
    framer.compact();
  }
}

bool session::take_early_input(line_framer& framer) {
  std::string& early = admitted_.early_input;
  if (early.empty())
    return false;
  // The framer may offer less than asked (a line at its length limit); the
  // rest waits for the next round.
  const std::span<char> space = framer.prepare(early.size());
  const std::size_t taken = std::min(space.size(), early.size());
  std::copy_n(early.begin(), taken, space.begin());
  framer.commit(taken);
  metrics::local().bytes_received.add(taken);
  early.erase(0, taken);
  return true;
}

asio::awaitable<void> session::submit(hub_port::batch& batch,
                                      std::chrono::steady_clock::time_point arrived) {
  if (batch.empty())
    co_return;
  // The caller's coroutine keeps the session and the batch alive while it
  // waits here. The initiation is a named local that captures plain pointers:
  // GCC 12 may destroy temporaries of a co_await expression twice, which a
  // captured shared_ptr does not survive.
  const auto initiate = [this, &batch, arrived](auto handler) {
    auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
    hub_.submit(shared_from_this(), batch, arrived, [waiting] {
      const auto executor = asio::get_associated_executor(*waiting);
      asio::dispatch(executor, std::move(*waiting));
    });
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(initiate,
                                                                       asio::use_awaitable);
  batch.clear();
}

asio::awaitable<void> session::discard_input() {
  // Keep reading until the client closes, so that closing our end does not
  // reset the connection and destroy the error frame before it is read.
  char scratch[4096];
  for (;;) {
    const auto [error, ignored] =
        co_await socket_.async_read_some(asio::buffer(scratch), use_tuple);
    if (error)
      co_return stop(describe(error));
  }
}

asio::awaitable<void> session::write_loop() {
  const auto self = shared_from_this();
  std::vector<frame> writing;
  std::vector<asio::const_buffer> buffers;
  for (;;) {
    bool flushed_for_close = false;
    {
      const std::lock_guard lock(queue_mutex_);
      if (!queue_.empty()) {
        writing.swap(queue_);
      } else if (close_requested_) {
        flushed_for_close = true;
      } else {
        writer_parked_ = true;
      }
    }
    if (stopped_)
      co_return;
    if (flushed_for_close)
      break;
    if (writing.empty()) {
      writer_wakeup_.expires_at(asio::steady_timer::time_point::max());
      co_await writer_wakeup_.async_wait(use_tuple);
      continue;
    }

    // Everything queued goes out in one gathered write.
    buffers.clear();
    for (const frame& bytes : writing)
      buffers.push_back(asio::buffer(bytes.text()));
    const auto [error, written] = co_await asio::async_write(socket_, buffers, use_tuple);
    metrics::local().bytes_sent.add(written);
    writing.clear();
    if (stopped_)
      co_return;
    if (error)
      co_return stop(describe(error));
    const std::lock_guard lock(queue_mutex_);
    queued_bytes_ -= written;
  }

  // Orderly close: our FIN follows the last frame; the reader stops the
  // session when the client closes its side (or the deadline does).
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void session::deliver(const frame& bytes) noexcept {
  bool wake_writer = false;
  bool dropped = false;
  {
    const std::lock_guard lock(queue_mutex_);
    if (!accepting_ || close_requested_)
      return;
    const std::size_t limit = config_.max_output_bytes;
    if (limit != 0 && queued_bytes_ + bytes.size() > limit) {
      dropped = true;
    } else {
      try {
        queue_.push_back(bytes);
        queued_bytes_ += bytes.size();
        metrics::local().deliveries.add();
        wake_writer = std::exchange(writer_parked_, false);
      } catch (const std::bad_alloc&) {
        dropped = true;
      }
    }
    if (dropped)
      accepting_ = false;
  }
  try {
    if (dropped) {
      metrics::local().slow_consumers.add();
      log_event(log_level::warn, "slow-consumer", {{"id", id_}});
      asio::post(socket_.get_executor(),
                 [self = shared_from_this()] { self->stop("slow consumer"); });
    } else if (wake_writer) {
      asio::post(socket_.get_executor(),
                 [self = shared_from_this()] { self->writer_wakeup_.cancel(); });
    }
  } catch (...) {
    // No memory even for the wake-up. The hub must not see this fail; a
    // slow consumer is then cut off when its peer closes or keepalive
    // gives up, instead of now.
  }
}

void session::close_after_flush() {
  bool wake_writer = false;
  {
    const std::lock_guard lock(queue_mutex_);
    if (close_requested_)
      return;
    close_requested_ = true;
    wake_writer = std::exchange(writer_parked_, false);
  }
  asio::post(socket_.get_executor(), [self = shared_from_this(), wake_writer] {
    if (self->stop_reason_.empty())
      self->stop_reason_ = "closed by server";
    if (wake_writer)
      self->writer_wakeup_.cancel();
    self->arm_close_deadline();
  });
}

void session::arm_close_deadline() {
  if (stopped_)
    return;
  deadline_.expires_after(config_.shutdown_grace);
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error)
      self->stop("close deadline");
  });
}

void session::stop(std::string_view reason) {
  if (stopped_)
    return;
  stopped_ = true;
  if (stop_reason_.empty())
    stop_reason_ = reason;
  metrics::local().disconnects[static_cast<std::size_t>(metrics::reason_of(stop_reason_))].add();
  {
    const std::lock_guard lock(queue_mutex_);
    accepting_ = false;
    queue_.clear();
    queued_bytes_ = 0;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  writer_wakeup_.cancel();
  deadline_.cancel();
  hub_.disconnect(shared_from_this(), std::string(stop_reason_));
}

}  // namespace cturn
