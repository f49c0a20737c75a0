#include "net/session.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <new>
#include <span>
#include <utility>

#include "hub/hub_port.hpp"
#include "log.hpp"
#include "metrics/metrics.hpp"
#include "net/dead_peer_options.hpp"
#include "net/read_buffer_pool.hpp"
#include "net/tls_context.hpp"
#include "net/use_tuple.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::size_t smallest_read = 256;
constexpr std::size_t largest_read = 64 * 1024;
constexpr std::size_t initial_queue_capacity = 8;
// A woken writer waits this many turns of the strand's queue before it writes,
// so that the frames the hub queues for this client in the rest of its batch,
// and in the batches already queued behind it, join the first write. Measured
// with bench/ab-compare (docs/benchmarks.md, tuning log): after 1 turn a
// broadcast to 100 members went out at 7 frames per sendmsg instead of 12 and
// lost 37 % of its deliveries per CPU second; 3 turns beat 2 in every scenario.
constexpr int writer_start_turns = 3;
// A TLS ClientHello starts with this record type; no JSON line does.
constexpr char tls_handshake_record = 0x16;
// Frames are packed into records of up to this size (TLS's largest), so that
// a write of many small frames costs few records, encryptions and sends.
constexpr std::size_t tls_record_bytes = 16 * 1024;
// Once our close_notify is out, how long the client may take to close.
constexpr auto tls_close_linger = std::chrono::seconds(1);
// How long a connection may be a protocol probe: its arrival lines wait this
// long at most. A probe (--check, a load balancer's check) closes within
// milliseconds of its welcome; an idle session's lines show 2 s late.
constexpr auto probe_window = std::chrono::seconds(2);

disconnect_reason describe(const boost::system::error_code& error) {
  if (error == asio::error::eof)
    return disconnect_reason::eof;
  if (error == asio::error::connection_reset)
    return disconnect_reason::reset;
  if (error == asio::error::broken_pipe)
    return disconnect_reason::broken_pipe;
  if (error == asio::error::timed_out)
    return disconnect_reason::keepalive_timeout;
  if (error == asio::error::operation_aborted || error == asio::error::bad_descriptor)
    return disconnect_reason::closed;
  return disconnect_reason::network_error;
}

// A PROXY LOCAL or v1 UNKNOWN header names no client: the connection is the
// trusted proxy's own (its health check) and counts as coming from the proxy
// itself (server::read_proxy_header).
bool is_proxy_health_check(const admission& admitted) {
  return admitted.proxy && *admitted.proxy == admitted.client;
}

}  // namespace

session::session(tcp::socket socket, hub_port& hub, const server_config& config, admission admitted,
                 const tls_identity_store* tls, output_budget* budget)
    : socket_(std::move(socket)),
      hub_(hub),
      config_(config),
      id_(admitted.id),
      admitted_(std::move(admitted)),
      chatter_(is_proxy_health_check(admitted_)),
      budget_(budget),
      tls_identities_(tls),
      limiter_(config.rate_limit, config.rate_burst, rate_limiter::clock::now()),
      byte_limiter_(config.rate_limit_bytes, config.rate_burst_bytes, rate_limiter::clock::now()),
      framer_(config.max_line_bytes),
      read_size_(smallest_read) {}

void session::start() {
  if (budget_ != nullptr)
    budget_->enroll(id_, weak_from_this());
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->begin(); });
}

void session::begin() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  // Errors leave the kernel's keepalive timings: slower, not wrong.
  set_dead_peer_options(socket_, dead_peer_timing_within(config_.dead_peer_timeout));
  // The reader reads until the socket would block, then waits for it.
  socket_.non_blocking(true, ignored);
  const auto text_of = [](const tcp::endpoint& endpoint) {
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  };
  if (is_proxy_health_check(admitted_)) {
    metrics::local()
        .health_checks[static_cast<std::size_t>(metrics::health_check_kind::proxy_local)]
        .add();
    chatter_.arrive("connect",
                    {{"id", id_}, {"peer", text_of(admitted_.client)}, {"check", "proxy-local"}});
  } else {
    if (admitted_.proxy)
      chatter_.arrive(
          "connect",
          {{"id", id_}, {"peer", text_of(admitted_.client)}, {"via", text_of(*admitted_.proxy)}});
    else
      chatter_.arrive("connect", {{"id", id_}, {"peer", text_of(admitted_.client)}});
    probe_window_ = std::make_unique<asio::steady_timer>(socket_.get_executor(), probe_window);
    probe_window_->async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error)
        return;
      self->chatter_.settle();
      self->probe_window_.reset();
    });
  }

  hub_.connect(shared_from_this());

  if (config_.username_timeout.count() > 0) {
    awaiting_username_ = true;
    deadline_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
    deadline_->expires_after(config_.username_timeout);
    deadline_->async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error)
        return;
      // The handshake has the username's deadline: no time of its own.
      if (self->handshaking_)
        return self->fail_handshake(metrics::handshake_failure::timeout, "timed out");
      self->hub_.registration_deadline(self);
    });
  }

  spawn(read_available());
}

void session::registered() noexcept {
  try {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      // A close deadline armed meanwhile stays. Destroying the timer
      // cancels its wait; a registered, idle connection keeps no timer.
      if (std::exchange(self->awaiting_username_, false))
        self->deadline_.reset();
    });
  } catch (...) {
    // No memory for the cancel: the timer fires later and finds the name set.
  }
}

void session::spawn(asio::awaitable<void> task) {
  const auto on_exit = [self = shared_from_this()](const std::exception_ptr& failure) {
    if (!failure)
      return;
    self->chatter_.log(log_level::error, "session-error",
                       {{"id", self->id_}, {"what", exception_text(failure)}});
    self->stop(disconnect_reason::internal_error);
  };
  asio::co_spawn(socket_.get_executor(), std::move(task),
                 asio::bind_executor(socket_.get_executor(), on_exit));
}

void session::await_input() {
  // An idle connection's whole cost: this wait and the session (and, over
  // TLS, OpenSSL's state without its buffers). Its buffer went back to the
  // pool, unless it holds part of a line.
  if (framer_.buffered() == 0)
    read_buffer_pool::give(framer_.release());
  // A TLS read may need to write first (an alert, a key update).
  const bool for_write = tls_ && tls_->waiting_for() == tls_stream::want::write;
  socket_.async_wait(for_write ? tcp::socket::wait_write : tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& error) {
                       if (self->stopped_)
                         return;
                       if (error)
                         return self->stop(describe(error));
                       self->spawn(self->read_available());
                     });
}

asio::awaitable<void> session::read_available() {
  const auto self = shared_from_this();
  if (!transport_known_ && !co_await choose_transport())
    co_return;
  if (framer_.buffered() == 0)
    framer_.adopt(read_buffer_pool::take());
  // The framer's buffer grows here, in the coroutine, so that a failed
  // allocation ends this session through spawn()'s handler instead of
  // unwinding out of an I/O thread and leaving a ghost.
  for (;;) {
    if (framer_.too_long()) {
      stop_reason_ = disconnect_reason::line_too_long;
      hub_.fail(self, protocol_error::message_too_long);
      co_return co_await discard_input();
    }
    // What came with a PROXY header is handled before anything is read.
    if (!take_early_input()) {
      const std::span<char> space = framer_.prepare(read_size_);
      boost::system::error_code error;
      const std::size_t received =
          tls_ ? tls_->read_some(space, error)
               : socket_.read_some(asio::buffer(space.data(), space.size()), error);
      framer_.commit(received);
      if (error == asio::error::would_block || error == asio::error::try_again)
        co_return await_input();
      if (error)
        co_return stop(describe(error));
      // Reads start small, so that a connection that only registers holds a
      // small buffer, and double while they fill the space offered, so that
      // busy connections make few system calls.
      if (received == space.size())
        read_size_ = std::min(read_size_ * 2, largest_read);
      metrics::local().bytes_received.add(received);
    }
    const auto arrived = std::chrono::steady_clock::now();

    // The decoded commands are views into the framer's buffer, which stays
    // untouched until the hub has handled them.
    while (const auto line = framer_.next_line()) {
      if (limiter_.limits() || byte_limiter_.limits()) {
        const auto now = rate_limiter::clock::now();
        // Both buckets pay for every line (its newline included); the longer
        // wait applies.
        const auto wait = std::max(limiter_.take(now),
                                   byte_limiter_.take(now, static_cast<double>(line->size() + 1)));
        if (wait.count() > 0) {
          // Back-pressure: hand over what is decoded, then stop reading a while.
          co_await submit(arrived);
          asio::steady_timer pause(socket_.get_executor(), wait);
          co_await pause.async_wait(use_tuple);
          if (stopped_)
            co_return;
        }
      }
      batch_.push_back(decode(*line));
      if (batch_.back())
        metrics::local().commands[batch_.back()->index()].add();
      const bool username = batch_.back() && std::holds_alternative<set_username>(*batch_.back());
      if (shape_ == probe_shape::nothing && username) {
        shape_ = probe_shape::username_only;
      } else if (shape_ != probe_shape::more) {
        shape_ = probe_shape::more;  // a second command, or not a username: no probe
        chatter_.settle();
      }
    }
    co_await submit(arrived);
    if (stopped_)
      co_return;
    framer_.compact();
  }
}

asio::awaitable<bool> session::choose_transport() {
  const std::string& early = admitted_.early_input;
  char first = 0;
  if (!early.empty()) {
    first = early.front();
  } else {
    // Peeked, not read: a TLS client's bytes are OpenSSL's to read.
    boost::system::error_code error;
    const std::size_t peeked =
        socket_.receive(asio::buffer(&first, 1), tcp::socket::message_peek, error);
    if (error == asio::error::would_block || error == asio::error::try_again) {
      await_input();
      co_return false;
    }
    if (error || peeked == 0) {
      // The reader's own read sees the end or the error and stops the session.
      transport_known_ = true;
      co_return true;
    }
  }
  transport_known_ = true;
  if (first != tls_handshake_record) {
    metrics::local()
        .connections_by_transport[static_cast<std::size_t>(metrics::transport::plain)]
        .add();
    if (!config_.tls_required)
      co_return true;
    stop_reason_ = disconnect_reason::tls_required;
    hub_.fail(shared_from_this(), protocol_error::tls_required);
    co_await discard_input();
    co_return false;
  }
  if (tls_identities_ == nullptr) {
    // An error frame would only upset the client's TLS stack: just close.
    fail_handshake(metrics::handshake_failure::not_offered, "no certificate configured");
    co_return false;
  }
  co_await handshake();
  co_return !stopped_;
}

asio::awaitable<void> session::handshake() {
  handshaking_ = true;
  tls_ = std::make_unique<tls_stream>(tls_identities_->context().get(), socket_.native_handle(),
                                      std::exchange(admitted_.early_input, {}));
  for (;;) {
    switch (tls_->handshake()) {
      case tls_stream::handshake_result::done:
        handshaking_ = false;
        metrics::local()
            .connections_by_transport[static_cast<std::size_t>(metrics::transport::tls)]
            .add();
        chatter_.arrive("tls",
                        {{"id", id_}, {"version", tls_->version()}, {"cipher", tls_->cipher()}});
        if (std::exchange(writer_deferred_, false))
          write_queued();
        co_return;
      case tls_stream::handshake_result::in_progress: {
        const bool for_write = tls_->waiting_for() == tls_stream::want::write;
        const auto [error] = co_await socket_.async_wait(
            for_write ? tcp::socket::wait_write : tcp::socket::wait_read, use_tuple);
        if (stopped_)
          co_return;
        if (error)
          co_return fail_handshake(metrics::handshake_failure::closed, error.message());
        break;
      }
      case tls_stream::handshake_result::closed:
        co_return fail_handshake(metrics::handshake_failure::closed, tls_->failure());
      case tls_stream::handshake_result::protocol_error:
        co_return fail_handshake(metrics::handshake_failure::protocol, tls_->failure());
    }
  }
}

void session::fail_handshake(metrics::handshake_failure why, std::string_view detail) {
  metrics::local().tls_handshake_failures[static_cast<std::size_t>(why)].add();
  chatter_.log(log_level::info, "tls-handshake-failed",
               {{"id", id_}, {"reason", metrics::label_of(why)}, {"why", detail}});
  stop(why == metrics::handshake_failure::not_offered ? disconnect_reason::tls_not_offered
                                                      : disconnect_reason::tls_handshake_failed);
}

bool session::take_early_input() {
  std::string& early = admitted_.early_input;
  if (early.empty())
    return false;
  // The framer may offer less than asked (a line at its length limit); the
  // rest waits for the next round.
  const std::span<char> space = framer_.prepare(early.size());
  const std::size_t taken = std::min(space.size(), early.size());
  std::copy_n(early.begin(), taken, space.begin());
  framer_.commit(taken);
  metrics::local().bytes_received.add(taken);
  early.erase(0, taken);
  if (early.empty())
    std::string().swap(early);
  return true;
}

asio::awaitable<void> session::submit(std::chrono::steady_clock::time_point arrived) {
  if (batch_.empty())
    co_return;
  // The caller's coroutine keeps the session alive while it waits here. The
  // initiation is a named local that captures plain pointers: GCC 12 may
  // destroy temporaries of a co_await expression twice, which a captured
  // shared_ptr does not survive.
  const auto initiate = [this, arrived](auto handler) {
    auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
    hub_.submit(shared_from_this(), batch_, arrived, [waiting] {
      const auto executor = asio::get_associated_executor(*waiting);
      asio::dispatch(executor, std::move(*waiting));
    });
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(initiate,
                                                                       asio::use_awaitable);
  batch_.clear();
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

void session::write_queued() {
  for (;;) {
    if (stopped_)
      return;
    if (handshaking_) {
      // The frames wait for the handshake: they go out encrypted or not at all.
      writer_deferred_ = true;
      return;
    }
    {
      const std::lock_guard lock(queue_mutex_);
      if (queue_.empty()) {
        if (close_requested_) {
          // Orderly close: our FIN (after a close_notify over TLS) follows the
          // last frame; the reader stops the session when the client closes
          // its side (or the deadline does). writer_running_ stays set:
          // nothing is written after this.
          if (tls_) {
            tls_->send_close_notify();
            close_notify_sent_ = true;
            arm_close_deadline();
          }
          boost::system::error_code ignored;
          socket_.shutdown(tcp::socket::shutdown_send, ignored);
          return;
        }
        writer_running_ = false;
        // Idle: keep no frame storage (the queue may hold the storage of an
        // earlier round's write, swapped in while frames were queued).
        std::vector<frame>().swap(queue_);
        std::vector<frame>().swap(writing_);
        std::vector<asio::const_buffer>().swap(buffers_);
        std::vector<char>().swap(staged_);
        return;
      }
      writing_.swap(queue_);
    }
    if (!tls_)
      return write_plain();
    if (!write_tls() || !account_written({}, std::exchange(tls_written_, 0)))
      return;
  }
}

bool session::write_tls() {
  for (;;) {
    if (staged_.empty()) {
      if (staged_through_ == writing_.size()) {
        staged_through_ = 0;
        return true;
      }
      // Whole frames, as many as fit in one record; a larger frame alone.
      staged_.reserve(tls_record_bytes);
      do {
        const std::string_view text = writing_[staged_through_].text();
        staged_.insert(staged_.end(), text.begin(), text.end());
        ++staged_through_;
      } while (staged_through_ < writing_.size() &&
               staged_.size() + writing_[staged_through_].size() <= tls_record_bytes);
    }
    boost::system::error_code error;
    tls_->write(staged_, error);
    if (error == asio::error::would_block) {
      const bool for_write = tls_->waiting_for() != tls_stream::want::read;
      socket_.async_wait(for_write ? tcp::socket::wait_write : tcp::socket::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& failed) {
                           // Stopped: the descriptor may already be another
                           // connection's; OpenSSL must not touch it.
                           if (self->stopped_)
                             return;
                           if (failed)
                             return self->on_written(failed, 0);
                           if (self->write_tls())
                             self->on_written({}, std::exchange(self->tls_written_, 0));
                         });
      return false;
    }
    if (error) {
      on_written(error, 0);
      return false;
    }
    tls_written_ += staged_.size();
    staged_.clear();
  }
}

void session::write_plain() {
  // Everything queued goes out in one gathered write. The span spares the
  // write a copy of the buffer list.
  buffers_.clear();
  buffers_.reserve(writing_.size());
  for (const frame& bytes : writing_)
    buffers_.push_back(asio::buffer(bytes.text()));
  asio::async_write(
      socket_, std::span<const asio::const_buffer>(buffers_),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t written) {
        self->on_written(error, written);
      });
}

void session::start_writer_after(int turns) {
  if (turns == 0)
    return write_queued();
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), turns] { self->start_writer_after(turns - 1); });
}

void session::on_written(const boost::system::error_code& error, std::size_t written) {
  if (account_written(error, written))
    write_queued();
}

bool session::account_written(const boost::system::error_code& error, std::size_t written) {
  metrics::local().bytes_sent.add(written);
  writing_.clear();
  staged_.clear();
  staged_through_ = 0;
  if (stopped_)
    return false;
  if (error) {
    stop(describe(error));
    return false;
  }
  {
    const std::lock_guard lock(queue_mutex_);
    queued_bytes_ -= written;
  }
  return true;
}

void session::deliver(const frame& bytes) noexcept {
  bool start_writer = false;
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
        // The writer gives its storage back whenever it catches up, so start
        // with room for a few frames rather than grow one at a time.
        if (queue_.capacity() == 0)
          queue_.reserve(initial_queue_capacity);
        queue_.push_back(bytes);
        queued_bytes_ += bytes.size();
        metrics::local().deliveries.add();
        start_writer = !std::exchange(writer_running_, true);
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
      chatter_.log(log_level::warn, "slow-consumer", {{"id", id_}});
      asio::post(socket_.get_executor(),
                 [self = shared_from_this()] { self->stop(disconnect_reason::slow_consumer); });
    } else if (start_writer) {
      start_writer_after(writer_start_turns);
    }
  } catch (...) {
    // No memory even for the wake-up. The hub must not see this fail; a
    // slow consumer is then cut off when its peer closes or keepalive
    // gives up, instead of now.
  }
}

void session::log_chatter(chatter_event event, std::initializer_list<log_field> fields) noexcept {
  if (event == chatter_event::username)
    return chatter_.arrive(event_name(event), fields, true);
  chatter_.log(log_level::info, event_name(event), fields);
}

std::size_t session::queued_output_bytes() const noexcept {
  const std::lock_guard lock(queue_mutex_);
  return queued_bytes_;
}

void session::shed() noexcept {
  try {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->stopped_)
        return;
      self->chatter_.log(log_level::warn, "shed",
                         {{"id", self->id_}, {"queued_bytes", self->queued_output_bytes()}});
      self->stop(disconnect_reason::over_output_budget);
    });
  } catch (...) {
    // No memory for the hand-off: the next check tries again.
  }
}

void session::close_after_flush() {
  bool start_writer = false;
  {
    const std::lock_guard lock(queue_mutex_);
    if (close_requested_)
      return;
    close_requested_ = true;
    start_writer = !std::exchange(writer_running_, true);
  }
  // Closed by the server: no probe. Its lines go out before the hub's next.
  chatter_.settle();
  asio::post(socket_.get_executor(), [self = shared_from_this(), start_writer] {
    if (!self->stop_reason_)
      self->stop_reason_ = disconnect_reason::closed_by_server;
    if (start_writer)
      self->write_queued();
    self->arm_close_deadline();
  });
}

void session::arm_close_deadline() {
  if (stopped_)
    return;
  awaiting_username_ = false;
  if (!deadline_) {
    try {
      deadline_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
    } catch (const std::bad_alloc&) {
      // Without a deadline the close could wait for ever on the client.
      return stop(disconnect_reason::close_deadline);
    }
  }
  // After a close_notify the client gets at most tls_close_linger to
  // answer: waiting on a TLS peer's close is where shutdowns hang.
  deadline_->expires_after(close_notify_sent_ ? std::min<std::chrono::milliseconds>(
                                                    config_.shutdown_grace, tls_close_linger)
                                              : config_.shutdown_grace);
  deadline_->async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error)
      self->stop(disconnect_reason::close_deadline);
  });
}

void session::stop(disconnect_reason reason) {
  if (stopped_)
    return;
  stopped_ = true;
  if (!stop_reason_)
    stop_reason_ = reason;
  const metrics::disconnect_label label = metrics::label_of_reason(*stop_reason_);
  metrics::local().disconnects[static_cast<std::size_t>(label)].add();
  // A username, its welcome, then the client closed: what a protocol health
  // check does. Its lines go out at debug, before the hub's `disconnect`.
  if (chatter_.end(label == metrics::disconnect_label::eof ||
                   label == metrics::disconnect_label::reset))
    metrics::local()
        .health_checks[static_cast<std::size_t>(metrics::health_check_kind::probe)]
        .add();
  probe_window_.reset();
  {
    const std::lock_guard lock(queue_mutex_);
    accepting_ = false;
    queue_.clear();
    queued_bytes_ = 0;
  }
  if (budget_ != nullptr)
    budget_->withdraw(id_);
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (deadline_)
    deadline_->cancel();
  hub_.disconnect(shared_from_this(), *stop_reason_);
}

}  // namespace cturn
