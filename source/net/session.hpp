#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "disconnect_reason.hpp"
#include "hub/participant.hpp"
#include "metrics/metrics.hpp"
#include "net/admission.hpp"
#include "net/chatter_log.hpp"
#include "net/output_budget.hpp"
#include "net/rate_limiter.hpp"
#include "net/tls_stream.hpp"
#include "protocol/decode.hpp"
#include "protocol/line_framer.hpp"

namespace cturn {

class hub_port;
class tls_identity_store;

// One client connection, on its own strand. A reader coroutine splits lines,
// decodes them and hands them to the hub while the socket has input; once it
// is empty the coroutine ends and a readiness wait (no coroutine, no buffer)
// starts the next one. Writes are a chain of completion handlers that drains
// a byte-bounded queue and stops when it is empty. An idle connection thus
// holds one pending wait and this object. The hub reaches the session only
// through deliver(), close_after_flush() and registered(), which are safe
// from any thread.
//
// The client's first byte tells its transport: 0x16 opens a TLS handshake
// (a ClientHello's record type), anything else is the plain protocol. A TLS
// session reads and writes through tls_stream; a plain one through the
// socket as before, with one test of `tls_` per read or write, not per byte.
class session final : public participant,
                      public output_holder,
                      public std::enable_shared_from_this<session> {
 public:
  // `tls` is null when the server has no certificate; `budget` when there is
  // none. Both outlive the session.
  session(boost::asio::ip::tcp::socket socket, hub_port& hub, const server_config& config,
          admission admitted, const tls_identity_store* tls = nullptr,
          output_budget* budget = nullptr);

  // Registers with the hub and starts reading and writing.
  void start();

  // Never throws: a frame that cannot be queued ends the session (its client
  // could no longer be given everything in order).
  void deliver(const frame& bytes) noexcept override;
  void close_after_flush() override;
  std::uint64_t connection_id() const override { return id_; }
  void registered() noexcept override;
  void log_chatter(chatter_event event, std::initializer_list<log_field> fields) noexcept override;

  std::size_t queued_output_bytes() const noexcept override;
  void shed() noexcept override;

 private:
  // Reads and hands over lines until the socket is empty, then waits for it.
  boost::asio::awaitable<void> read_available();
  void await_input();
  boost::asio::awaitable<void> discard_input();
  // Looks at the first byte and sets up its transport; false when the
  // session is waiting for that byte or has ended.
  boost::asio::awaitable<bool> choose_transport();
  boost::asio::awaitable<void> handshake();
  void fail_handshake(metrics::handshake_failure why, std::string_view detail);
  // Runs `task` on this session's strand; an exception ends the session only.
  void spawn(boost::asio::awaitable<void> task);
  boost::asio::awaitable<void> submit(std::chrono::steady_clock::time_point arrived);
  void begin();
  // Moves bytes read with a PROXY header into the framer; false if none are left.
  bool take_early_input();
  // Writes what is queued, then again until the queue is empty. On the strand.
  void write_queued();
  // Writes `writing_` through TLS, a record of up to 16 KiB at a time. True
  // when it is all written; false when it waits for the socket (and then
  // finishes through on_written()) or failed (ditto).
  bool write_tls();
  // Writes `writing_` in one gathered socket write; finishes through on_written().
  void write_plain();
  // write_queued() after `turns` more posts to the strand.
  void start_writer_after(int turns);
  void on_written(const boost::system::error_code& error, std::size_t written);
  // Books a finished write; true when the writer should look at the queue again.
  bool account_written(const boost::system::error_code& error, std::size_t written);
  void arm_close_deadline();
  // Ends the connection now; tells the hub. Runs on the strand; idempotent.
  void stop(disconnect_reason reason);

  boost::asio::ip::tcp::socket socket_;
  hub_port& hub_;
  const server_config& config_;
  const std::uint64_t id_;
  admission admitted_;
  chatter_log chatter_;
  output_budget* budget_;
  // The username timeout, then the close deadline; none while neither runs.
  std::unique_ptr<boost::asio::steady_timer> deadline_;
  std::optional<disconnect_reason> stop_reason_;  // the first reason wins
  bool stopped_ = false;
  bool awaiting_username_ = false;  // deadline_ is the username timeout
  // What the client has sent so far, as far as telling a probe goes.
  enum class probe_shape : std::uint8_t { nothing, username_only, more };
  probe_shape shape_ = probe_shape::nothing;
  // Until it ends, the connection may still be a probe (chatter_log).
  std::unique_ptr<boost::asio::steady_timer> probe_window_;

  // TLS, once the first byte asked for it; see tls_stream.
  const tls_identity_store* tls_identities_;
  std::unique_ptr<tls_stream> tls_;
  bool transport_known_ = false;
  bool handshaking_ = false;
  bool writer_deferred_ = false;    // the writer woke during the handshake
  bool close_notify_sent_ = false;  // the close deadline is then at most 1 s
  std::vector<char> staged_;        // the TLS record being written
  std::size_t staged_through_ = 0;  // frames of writing_ staged so far
  std::size_t tls_written_ = 0;     // bytes of writing_ written so far

  // The reader's state between bursts of input; only the strand touches it.
  rate_limiter limiter_;       // frames
  rate_limiter byte_limiter_;  // bytes of the lines read
  line_framer framer_;
  std::size_t read_size_;
  std::vector<tl::expected<command, protocol_error>> batch_;

  // The frames being written and their buffers; only the strand touches them.
  std::vector<frame> writing_;
  std::vector<boost::asio::const_buffer> buffers_;

  // Shared between the hub's strand (deliver) and this session's strand.
  mutable std::mutex queue_mutex_;
  std::vector<frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool writer_running_ = false;  // a write_queued() is posted or a write is under way
  bool accepting_ = true;
  bool close_requested_ = false;
};

}  // namespace cturn
