#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "hub/participant.hpp"
#include "net/admission.hpp"
#include "protocol/decode.hpp"

namespace cturn {

class hub_port;
class line_framer;

// One client connection: a reader coroutine that splits lines, decodes them
// and hands them to the hub, and a writer coroutine that drains a byte-bounded
// queue. Both run on the socket's strand; the hub reaches the session only
// through deliver() and close_after_flush(), which are safe from any thread.
class session final : public participant, public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket socket, hub_port& hub, const server_config& config,
          admission admitted);

  // Registers with the hub and starts reading and writing.
  void start();

  // Never throws: a frame that cannot be queued ends the session (its client
  // could no longer be given everything in order).
  void deliver(const frame& bytes) noexcept override;
  void close_after_flush() override;
  std::uint64_t connection_id() const override { return id_; }

 private:
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> discard_input();
  // Runs `task` on this session's strand; an exception ends the session only.
  void spawn(boost::asio::awaitable<void> task);
  boost::asio::awaitable<void> submit(std::vector<tl::expected<command, protocol_error>>& batch,
                                      std::chrono::steady_clock::time_point arrived);
  void begin();
  // Moves bytes read with a PROXY header into `framer`; false if none are left.
  bool take_early_input(line_framer& framer);
  void arm_close_deadline();
  // Ends the connection now; tells the hub. Runs on the strand; idempotent.
  void stop(std::string_view reason);

  boost::asio::ip::tcp::socket socket_;
  hub_port& hub_;
  const server_config& config_;
  const std::uint64_t id_;
  admission admitted_;
  boost::asio::steady_timer writer_wakeup_;
  boost::asio::steady_timer deadline_;  // username timeout, then the close deadline
  std::string_view stop_reason_;        // always a string literal
  bool stopped_ = false;

  // Shared between the hub's strand (deliver) and this session's writer.
  std::mutex queue_mutex_;
  std::vector<frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool writer_parked_ = false;
  bool accepting_ = true;
  bool close_requested_ = false;
};

}  // namespace cturn
