#include "cluster/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <new>

#include "net/use_tuple.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

redis_reply convert(const redisReply& raw) {
  redis_reply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING:
      reply.type = redis_reply::kind::string;
      break;
    case REDIS_REPLY_STATUS:
      reply.type = redis_reply::kind::status;
      break;
    case REDIS_REPLY_ERROR:
      reply.type = redis_reply::kind::error;
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = redis_reply::kind::integer;
      reply.integer = raw.integer;
      return reply;
    case REDIS_REPLY_ARRAY:
      reply.type = redis_reply::kind::array;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i)
        reply.elements.push_back(convert(*raw.element[i]));
      return reply;
    default:
      return reply;  // nil
  }
  reply.text.assign(raw.str, raw.len);
  return reply;
}

bool is_pushed_message(const redis_reply& reply) {
  return reply.type == redis_reply::kind::array && reply.elements.size() == 3 &&
         reply.elements[0].text == "message";
}

}  // namespace

redis_connection::redis_connection(asio::any_io_executor strand, redis_liveness checks)
    : strand_(std::move(strand)),
      socket_(strand_),
      reader_(redisReaderCreate(), redisReaderFree),
      checks_(checks) {
  if (!reader_)
    throw std::bad_alloc();
  keep_reader_buffer();
}

void redis_connection::keep_reader_buffer() {
  // hiredis frees an idle buffer above `maxbuf` (16 KiB by default): with
  // reads of read_size that would be an allocation and a free per read.
  reader_->maxbuf = 2 * read_size;
}

redis_connection::~redis_connection() {
  *alive_ = false;
  close();
}

asio::awaitable<bool> redis_connection::connect(const std::string& host, std::uint16_t port,
                                                const std::string& password,
                                                std::chrono::milliseconds timeout,
                                                const std::string& user) {
  close();
  reader_.reset(redisReaderCreate());
  if (!reader_)
    throw std::bad_alloc();
  keep_reader_buffer();
  const std::uint64_t generation = generation_;
  const std::shared_ptr<bool> alive = alive_;

  // Everything below, the handshake included, must finish within `timeout`:
  // a stopped Redis still completes TCP connections from its listen backlog.
  tcp::resolver resolver(strand_);
  asio::steady_timer deadline(strand_, timeout);
  deadline.async_wait([this, alive, generation](const boost::system::error_code& error) {
    if (error || !*alive || generation != generation_)
      return;
    boost::system::error_code ignored;
    socket_.close(ignored);
    fail("connect timeout");
  });

  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
  if (!*alive || generation != generation_ || resolve_error)
    co_return false;
  auto [connect_error, ignored_endpoint] =
      co_await asio::async_connect(socket_, endpoints, use_tuple);
  if (!*alive || generation != generation_ || connect_error)
    co_return false;
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  open_ = true;
  asio::co_spawn(strand_, read_loop(alive), asio::detached);

  if (!password.empty()) {
    std::vector<std::string> auth_command{"AUTH", password};
    if (!user.empty())
      auth_command.insert(auth_command.begin() + 1, user);
    const redis_reply auth = co_await call(std::move(auth_command));
    if (!*alive || auth.is_error())
      co_return false;
  }
  std::vector<std::string> ping{"PING"};
  const redis_reply pong = co_await call(std::move(ping));
  if (!*alive || generation != generation_ || pong.is_error())
    co_return false;
  deadline.cancel();
  established_ = true;
  last_received_ = std::chrono::steady_clock::now();
  asio::co_spawn(strand_, watch(alive), asio::detached);
  co_return true;
}

void redis_connection::send(const std::vector<std::string_view>& arguments,
                            reply_handler on_reply) {
  if (!open_) {
    if (on_reply)
      asio::post(strand_, [on_reply = std::move(on_reply)] {
        on_reply(redis_reply::error("not connected"));
      });
    return;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(arguments.size());
  lengths.reserve(arguments.size());
  for (const std::string_view argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  char* encoded = nullptr;
  const int length =
      redisFormatCommandArgv(&encoded, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (length < 0)
    throw std::bad_alloc();
  if (output_.size() + static_cast<std::size_t>(length) > checks_.max_queued_bytes) {
    redisFreeCommand(encoded);
    if (on_reply)
      asio::post(strand_, [on_reply = std::move(on_reply)] {
        on_reply(redis_reply::error("command buffer full"));
      });
    // After the handler above is queued: fail() runs the pending ones now.
    asio::post(strand_, [this, alive = alive_, generation = generation_] {
      if (*alive && generation == generation_)
        fail("command buffer full");
    });
    return;
  }
  try {
    output_.append(encoded, static_cast<std::size_t>(length));
  } catch (...) {
    redisFreeCommand(encoded);
    throw;
  }
  redisFreeCommand(encoded);
  last_activity_ = std::chrono::steady_clock::now();
  waiting_.push_back({std::move(on_reply), last_activity_});
  start_write();
}

asio::awaitable<redis_reply> redis_connection::call(std::vector<std::string> arguments) {
  const std::vector<std::string_view> views(arguments.begin(), arguments.end());
  const auto initiate = [this, &views](auto handler) {
    auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
    send(views, [waiting](const redis_reply& reply) {
      const auto executor = asio::get_associated_executor(*waiting);
      asio::post(executor, [waiting, reply]() mutable { std::move (*waiting)(reply); });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(redis_reply)>(
      initiate, asio::use_awaitable);
}

void redis_connection::start_write() {
  if (write_in_flight_ || output_.empty() || !open_)
    return;
  write_in_flight_ = true;
  writing_.swap(output_);
  output_.clear();
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, alive = alive_, generation = generation_](
                        const boost::system::error_code& error, std::size_t) {
                      if (!*alive || generation != generation_)
                        return;
                      write_in_flight_ = false;
                      writing_.clear();
                      if (error)
                        return fail("write failed: " + error.message());
                      start_write();
                    });
}

asio::awaitable<void> redis_connection::read_loop(std::shared_ptr<bool> alive) {
  const std::uint64_t generation = generation_;
  // Large: on the events link one read is handed to the node's clients in
  // one turn of the strand, and a client's writer waits a few turns before
  // it writes (net/session.cpp), so the more a read holds, the more frames
  // each client's write carries. With 16 KiB spread over a few hundred
  // clients a node wrote 2.8 frames per sendmsg where a single server
  // writes 11.6 (docs/benchmarks.md). Reads take what is there: a quiet
  // link still gets each reply as it comes.
  std::vector<char> buffer(read_size);
  for (;;) {
    const auto [error, received] =
        co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
    if (!*alive || generation != generation_)
      co_return;
    if (error)
      co_return fail("read failed: " + error.message());
    last_received_ = std::chrono::steady_clock::now();
    if (redisReaderFeed(reader_.get(), buffer.data(), received) != REDIS_OK)
      co_return fail("unreadable reply");
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK)
        co_return fail("unreadable reply");
      if (raw == nullptr)
        break;
      redis_reply reply;
      try {
        reply = convert(*static_cast<redisReply*>(raw));
      } catch (...) {
        freeReplyObject(raw);
        throw;
      }
      freeReplyObject(raw);
      dispatch(std::move(reply));
      if (!*alive || generation != generation_)
        co_return;
    }
  }
}

void redis_connection::dispatch(redis_reply&& reply) {
  if (push_ && is_pushed_message(reply))
    return push_(std::move(reply));
  if (waiting_.empty())
    return fail("a reply nobody asked for");
  // On any link and for any command: every command waiting, this one first,
  // gets the error, and the owner hears that the link is lost.
  if (reply.means_master_lost())
    return fail(reply.text);
  reply_handler handler = std::move(waiting_.front().handler);
  waiting_.pop_front();
  last_activity_ = std::chrono::steady_clock::now();
  if (handler)
    handler(reply);
  else if (reply.is_error() && unhandled_error_)
    unhandled_error_(reply);
}

void redis_connection::fail(std::string_view why) {
  if (!open_ && waiting_.empty())
    return;
  const bool was_established = established_;
  close_with(why);
  if (was_established && lost_)
    lost_(why);
}

asio::awaitable<void> redis_connection::watch(std::shared_ptr<bool> alive) {
  const std::uint64_t generation = generation_;
  asio::steady_timer tick(strand_);
  auto last_check = std::chrono::steady_clock::now();
  for (;;) {
    tick.expires_after(checks_.check_every);
    co_await tick.async_wait(use_tuple);
    if (!*alive || generation != generation_ || !open_)
      co_return;
    const auto now = std::chrono::steady_clock::now();
    // A check that runs late found its strand busy (seconds of fan-out on
    // the hub's): meanwhile the replies that came were not read either, so
    // that time says nothing about the link and is not held against it.
    // A link lost while its strand is busy is found by the lease, which
    // has a strand of its own (node_lease).
    const auto late = now - last_check - checks_.check_every;
    last_check = now;
    // (Never past now: a reply read or a command sent just before this
    // check, after the busy spell, is not pushed into the future.)
    if (late > checks_.check_every) {
      for (pending_reply& waiting : waiting_)
        waiting.sent = std::min(waiting.sent + late, now);
      last_received_ = std::min(last_received_ + late, now);
    }
    // Bytes that keep coming (a backlog of pushes ahead of the reply) show
    // that Redis still talks on this link: the node is behind, not the link.
    if (!waiting_.empty() && now - waiting_.front().sent > checks_.reply_deadline &&
        now - last_received_ > checks_.reply_deadline)
      co_return fail("no reply in time");
    if (waiting_.empty() && now - last_activity_ >= checks_.idle_ping)
      send({"PING"});
  }
}

void redis_connection::close() {
  close_with("connection closed");
}

void redis_connection::close_with(std::string_view why) {
  ++generation_;
  open_ = false;
  established_ = false;
  write_in_flight_ = false;
  output_.clear();
  writing_.clear();
  boost::system::error_code ignored;
  socket_.close(ignored);
  // Handlers may send again; they find the connection closed.
  std::deque<pending_reply> pending;
  pending.swap(waiting_);
  const redis_reply lost = redis_reply::error(std::string(why));
  for (pending_reply& waiting : pending) {
    if (waiting.handler)
      waiting.handler(lost);
  }
}

}  // namespace cturn
