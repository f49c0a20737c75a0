#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_reply.hpp"

struct redisReader;

namespace cturn {

// How the connection proves that Redis still answers. A link can stall
// without an error (NAT or conntrack drops, a frozen proxy, a paused
// Redis): only a reply that comes in time shows that it works.
struct redis_liveness {
  // A connection with no reply pending for this long sends a PING, also
  // in subscribed mode; this also keeps Redis's `timeout` from closing it.
  std::chrono::milliseconds idle_ping{500};
  // A reply pending for longer than this, while nothing at all was read
  // for as long, is a lost connection. Time its strand spent elsewhere
  // (a check that ran late) is not counted.
  std::chrono::milliseconds reply_deadline{2'000};
  // How often the two above are checked.
  std::chrono::milliseconds check_every{250};
  // Commands queued but not yet written beyond this are a lost connection:
  // a stalled link must not grow the buffer without bound.
  std::size_t max_queued_bytes = 16 * 1024 * 1024;
};

// One connection to Redis: pipelined commands whose replies complete in
// order, and, once subscribed, the messages Redis pushes. The wire format is
// hiredis's (its command encoder and reply reader); the I/O is Asio's. Not
// thread-safe: every call, and every callback, runs on the executor given,
// which must be a strand (or a single thread).
class redis_connection {
 public:
  // The most one read takes from the socket.
  static constexpr std::size_t read_size = 256 * 1024;

  using reply_handler = std::function<void(const redis_reply&)>;
  using push_handler = std::function<void(redis_reply&&)>;

  explicit redis_connection(boost::asio::any_io_executor strand, redis_liveness checks = {});
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Connects (and AUTHs with `password` if it is not empty, as `user` if
  // that is not empty either); false on failure or when `timeout` passes first.
  boost::asio::awaitable<bool> connect(const std::string& host, std::uint16_t port,
                                       const std::string& password,
                                       std::chrono::milliseconds timeout,
                                       const std::string& user = {});

  // Queues a command. `on_reply` (may be empty) gets its reply, or an error
  // reply once the connection is lost.
  void send(const std::vector<std::string_view>& arguments, reply_handler on_reply = {});
  void send(std::initializer_list<std::string_view> arguments, reply_handler on_reply = {}) {
    send(std::vector<std::string_view>(arguments), std::move(on_reply));
  }

  // Sends a command and waits for its reply.
  boost::asio::awaitable<redis_reply> call(std::vector<std::string> arguments);

  // An error reply to a command sent without a handler goes here: one
  // handler for all, rather than one allocated per command.
  void on_unhandled_error(reply_handler handler) { unhandled_error_ = std::move(handler); }

  // Subscriber mode: pushed `message` replies go here, not to a command.
  void on_push(push_handler handler) { push_ = std::move(handler); }
  // Called once, with the reason, when the connection fails after connect()
  // succeeded.
  void on_lost(std::function<void(std::string_view)> handler) { lost_ = std::move(handler); }

  bool connected() const { return open_; }
  // Closes the connection; pending commands get an error reply; on_lost is
  // not called.
  void close();

 private:
  void keep_reader_buffer();
  void start_write();
  boost::asio::awaitable<void> read_loop(std::shared_ptr<bool> alive);
  boost::asio::awaitable<void> watch(std::shared_ptr<bool> alive);
  void dispatch(redis_reply&& reply);
  // The connection failed: close it, and tell the owner if it was up.
  void fail(std::string_view why);
  void close_with(std::string_view why);

  boost::asio::any_io_executor strand_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
  struct pending_reply {
    reply_handler handler;
    std::chrono::steady_clock::time_point sent;
  };
  redis_liveness checks_;
  std::deque<pending_reply> waiting_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point last_received_;  // the last bytes read
  std::string output_;                                   // commands not yet handed to the socket
  std::string writing_;                                  // the bytes of the write in flight
  bool write_in_flight_ = false;
  bool open_ = false;
  bool established_ = false;  // connect() finished: a failure is news for on_lost
  // Bumped by every close: completions of an earlier socket are ignored.
  std::uint64_t generation_ = 0;
  push_handler push_;
  reply_handler unhandled_error_;
  std::function<void(std::string_view)> lost_;
  // Lets coroutines and handlers that outlive this object see that it is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cturn
