#include "load_generator.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <numeric>
#include <span>
#include <tuple>
#include <vector>

#include "histogram.hpp"
#include "proc_stats.hpp"
#include "tls_client.hpp"

namespace cturn::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t load_input_bytes = 32 * 1024;
constexpr std::size_t idle_input_bytes = 1024;
constexpr auto drain_poll = std::chrono::milliseconds(10);
constexpr std::size_t max_open_loop_backlog = 16 << 20;

// Receipts of one sender's messages at one receiver. `seen` remembers the 64
// sequence numbers below `next`: bit i set means next - 1 - i has arrived.
struct pair_state {
  std::uint64_t next = 0;
  std::uint64_t seen = 0;
  std::uint64_t unique = 0;
};

enum class phase { setup, warmup, measure, drain };

template <typename Value>
std::optional<Value> sum(const std::optional<std::vector<Value>>& values) {
  if (!values)
    return std::nullopt;
  return std::accumulate(values->begin(), values->end(), Value{});
}

struct connection {
  connection(asio::io_context& io, std::uint32_t id_, std::uint32_t room_, std::uint32_t member_)
      : socket(io), wakeup(io), id(id_), room(room_), member(member_) {}

  tcp::socket socket;
  std::unique_ptr<tls_client> tls;  // --tls: OpenSSL on the socket
  asio::steady_timer wakeup;        // a parked writer waits on it
  const std::uint32_t id;
  const std::uint32_t room;
  const std::uint32_t member;

  std::vector<char> input;
  std::size_t input_begin = 0;
  std::size_t input_end = 0;
  std::vector<pair_state> pairs;  // indexed by the sender's member number

  bool sender = false;
  std::string payload;
  std::string pending;  // appended by the pacer or the window, drained by the writer
  std::string writing;
  std::uint64_t rounds = 0;
  std::int64_t outstanding = 0;  // deliveries of this sender's messages not seen yet
  bool parked = false;
};

class generator {
 public:
  explicit generator(const options& config);
  run_result run();

 private:
  std::uint64_t now_ns() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - start_).count());
  }
  bool closed_loop() const { return config_.rate <= 0; }

  asio::awaitable<void> main_flow();
  asio::awaitable<void> register_all();
  asio::awaitable<void> register_worker(const std::vector<connection*>& order, std::size_t& next);
  asio::awaitable<bool> register_one(connection& c);
  asio::awaitable<bool> await_acceptance(connection& c);
  asio::awaitable<std::optional<std::string_view>> read_line(connection& c);
  asio::awaitable<void> reader(connection& c);
  asio::awaitable<void> writer(connection& c);
  asio::awaitable<void> pacer();
  asio::awaitable<void> stall_monitor();
  asio::awaitable<void> drain();
  asio::awaitable<void> sleep(std::chrono::nanoseconds duration);

  // Over TLS, what the socket's async operations do in plain TCP: one
  // OpenSSL call, and a wait for readiness while it cannot go on.
  using io_result = std::tuple<boost::system::error_code, std::size_t>;
  asio::awaitable<boost::system::error_code> start_tls(connection& c);
  asio::awaitable<io_result> tls_read_some(connection& c, std::span<char> into);
  asio::awaitable<io_result> tls_write(connection& c, std::span<const char> bytes);
  asio::awaitable<boost::system::error_code> tls_wait(connection& c, tls_client::step needed);

  void on_line(connection& c, std::string_view line, std::uint64_t now);
  void on_message(connection& c, const stamp& received, std::uint64_t now);
  void append_round(connection& c, std::uint64_t sent_ns);
  void fill_window(connection& c);
  void wake(connection& c);
  void read_server_rss();
  void note_error(std::string_view what);
  void fail(std::string why);
  void close_all();
  void count_losses();
  template <typename Done>
  void spawn(asio::awaitable<void> task, Done done);

  const options& config_;
  std::unique_ptr<tls_client_context> tls_context_;  // --tls
  asio::io_context io_{1};
  const steady::time_point start_ = steady::now();
  std::vector<tcp::endpoint> servers_;  // one per --port
  std::vector<std::unique_ptr<connection>> connections_;
  std::vector<std::string> names_;
  std::vector<connection*> senders_;
  std::int64_t fanout_;        // deliveries per round: every other member of the room
  std::int64_t window_limit_;  // a sender may add a round while at or below this
  phase phase_ = phase::setup;
  bool sending_ = false;
  bool closing_ = false;
  bool failed_ = false;
  std::size_t workers_left_ = 0;
  asio::steady_timer workers_done_;
  latency_histogram latency_;
  run_result result_;
};

generator::generator(const options& config)
    : config_(config),
      fanout_(static_cast<std::int64_t>(config.members) - 1),
      window_limit_(static_cast<std::int64_t>(config.window - 1) * fanout_),
      workers_done_(io_) {
  boost::system::error_code error;
  const auto address = asio::ip::make_address(config.host, error);
  if (error)
    fail("bad --host: " + config.host);
  if (config.tls) {
    tls_context_ = std::make_unique<tls_client_context>();
    if (tls_context_->get() == nullptr)
      fail("TLS: " + tls_context_->error());
  }
  for (const std::uint16_t port : config.ports)
    servers_.emplace_back(address, port);

  const bool idle = config.load == mode::idle;
  connections_.reserve(config.connections);
  names_.reserve(config.connections);
  for (std::size_t i = 0; i < config.connections; ++i) {
    const auto room = static_cast<std::uint32_t>(i / config.members);
    const auto member = static_cast<std::uint32_t>(i % config.members);
    auto& c = *connections_.emplace_back(
        std::make_unique<connection>(io_, static_cast<std::uint32_t>(i), room, member));
    names_.push_back(config.tag + "-" + std::to_string(i));
    c.input.resize(idle ? idle_input_bytes : load_input_bytes);
    if (idle)
      continue;
    c.pairs.resize(config.senders);
    if (member < config.senders) {
      c.sender = true;
      c.payload = make_payload(c.id, config.size);
      senders_.push_back(&c);
    }
  }
}

template <typename Done>
void generator::spawn(asio::awaitable<void> task, Done done) {
  asio::co_spawn(io_, std::move(task), [this, done](const std::exception_ptr& failure) {
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& error) {
        fail(std::string("internal error: ") + error.what());
        close_all();
      }
    }
    done();
  });
}

run_result generator::run() {
  if (failed_)
    return result_;
  // Everything ends by itself; the budget only guards against a bug that
  // would leave an operation pending forever.
  const double budget_s = config_.setup_s + config_.warmup_s + config_.duration_s +
                          config_.drain_s + config_.settle_s + 30;
  bool overran = false;
  asio::steady_timer budget(
      io_, std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(budget_s)));
  budget.async_wait([&](const boost::system::error_code& error) {
    if (error)
      return;
    overran = true;
    io_.stop();
  });
  spawn(main_flow(), [this, &budget] {
    close_all();
    budget.cancel();
  });
  io_.run();
  if (overran) {
    fail("the generator did not finish within its time budget");
    result_.completed = false;
  }
  return result_;
}

asio::awaitable<void> generator::main_flow() {
  const std::vector<int>& pids = config_.server_pids;
  const bool watched = !pids.empty();
  if (watched)
    result_.server_rss_base_kib = sum(process_rss_kib(pids));

  const auto setup_begin = now_ns();
  co_await register_all();
  if (failed_)
    co_return;
  result_.setup_s = static_cast<double>(now_ns() - setup_begin) / 1e9;

  if (config_.load == mode::idle) {
    co_await sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(config_.settle_s)));
    read_server_rss();
    result_.completed = !failed_;
    co_return;
  }

  phase_ = phase::warmup;
  sending_ = true;
  for (connection* c : senders_)
    spawn(writer(*c), [] {});
  if (!closed_loop())
    spawn(pacer(), [] {});
  spawn(stall_monitor(), [] {});
  co_await sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(config_.warmup_s)));

  phase_ = phase::measure;
  const auto measure_begin = now_ns();
  const auto server_cpu_begin = watched ? process_cpu_seconds(pids) : std::nullopt;
  const double own_cpu_begin = own_cpu_seconds();
  const auto frames_begin = result_.frames_sent;
  co_await sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(config_.duration_s)));
  const auto server_cpu_end = watched ? process_cpu_seconds(pids) : std::nullopt;
  result_.generator_cpu_s = own_cpu_seconds() - own_cpu_begin;
  result_.measured_s = static_cast<double>(now_ns() - measure_begin) / 1e9;
  result_.measured_frames_sent = result_.frames_sent - frames_begin;
  if (server_cpu_begin && server_cpu_end) {
    for (std::size_t i = 0; i < pids.size(); ++i)
      result_.server_cpu_s_each.push_back((*server_cpu_end)[i] - (*server_cpu_begin)[i]);
    result_.server_cpu_s = sum(std::optional(result_.server_cpu_s_each));
  }
  read_server_rss();

  phase_ = phase::drain;
  sending_ = false;
  for (connection* c : senders_)
    wake(*c);
  co_await drain();

  result_.latency_samples = latency_.count();
  result_.p50_ns = latency_.percentile(0.50);
  result_.p90_ns = latency_.percentile(0.90);
  result_.p99_ns = latency_.percentile(0.99);
  result_.p999_ns = latency_.percentile(0.999);
  result_.p9999_ns = latency_.percentile(0.9999);
  result_.max_ns = latency_.max();
  count_losses();
  result_.completed = !failed_;
}

asio::awaitable<void> generator::register_all() {
  // A watchdog bounds the whole registration: a server that stops answering
  // fails the run instead of hanging it.
  asio::steady_timer watchdog(io_, std::chrono::duration_cast<steady::duration>(
                                       std::chrono::duration<double>(config_.setup_s)));
  watchdog.async_wait([this](const boost::system::error_code& error) {
    if (error || phase_ != phase::setup)
      return;
    fail("registration did not finish within --setup-timeout");
    close_all();
  });

  // Creators first, so that every room exists before anyone joins it.
  std::vector<connection*> creators;
  std::vector<connection*> joiners;
  for (auto& c : connections_)
    (c->member == 0 ? creators : joiners).push_back(c.get());
  for (const auto* order : {&creators, &joiners}) {
    std::size_t next = 0;
    workers_left_ = std::min(config_.setup_parallel, order->size());
    for (std::size_t i = 0, n = workers_left_; i < n; ++i) {
      spawn(register_worker(*order, next), [this] {
        if (--workers_left_ == 0)
          workers_done_.cancel();
      });
    }
    while (workers_left_ > 0) {
      workers_done_.expires_at(steady::time_point::max());
      co_await workers_done_.async_wait(use_tuple);
    }
    if (failed_)
      break;
  }
  watchdog.cancel();
}

asio::awaitable<void> generator::register_worker(const std::vector<connection*>& order,
                                                 std::size_t& next) {
  while (!failed_ && next < order.size()) {
    connection& c = *order[next++];
    if (!co_await register_one(c))
      co_return;
  }
}

asio::awaitable<bool> generator::register_one(connection& c) {
  boost::system::error_code error;
  if (c.id >= config_.per_source_address) {
    // Past one source address's ephemeral ports: 127.0.0.2, 127.0.0.3, ...
    const auto source = asio::ip::address_v4(
        static_cast<std::uint32_t>(0x7F000001 + c.id / config_.per_source_address));
    c.socket.open(tcp::v4(), error);
    const int on = 1;
    if (!error)
      setsockopt(c.socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    if (!error)
      c.socket.bind(tcp::endpoint(source, 0), error);
    if (error) {
      fail("bind to " + source.to_string() + ": " + error.message());
      co_return false;
    }
  }
  // Member m of every room on the (m mod N)-th server: a room spans the nodes.
  const tcp::endpoint& server = servers_[c.member % servers_.size()];
  const auto [connect_error] = co_await c.socket.async_connect(server, use_tuple);
  if (connect_error) {
    fail("connect " + names_[c.id] + ": " + connect_error.message());
    co_return false;
  }
  c.socket.set_option(tcp::no_delay(true), error);
  if (tls_context_) {
    if (const auto tls_error = co_await start_tls(c)) {
      fail("TLS handshake " + names_[c.id] + ": " + (c.tls ? c.tls->failure() : std::string()) +
           " (" + tls_error.message() + ")");
      co_return false;
    }
    if (result_.tls_version.empty()) {
      result_.tls_version = c.tls->version();
      result_.tls_cipher = c.tls->cipher();
    }
  }

  const std::string room = config_.tag + "-r" + std::to_string(c.room);
  const std::array<std::string, 2> lines = {
      username_line(config_.kind, names_[c.id]),
      enter_room_line(config_.kind, c.member == 0, room, names_[c.id])};
  for (const std::string& line : lines) {
    if (line.empty())
      continue;
    const auto [write_error, written] =
        c.tls ? co_await tls_write(c, line)
              : co_await asio::async_write(c.socket, asio::buffer(line), use_tuple);
    if (write_error) {
      fail("register " + names_[c.id] + ": " + write_error.message());
      co_return false;
    }
    if (!co_await await_acceptance(c))
      co_return false;
  }
  spawn(reader(c), [] {});
  co_return true;
}

asio::awaitable<bool> generator::await_acceptance(connection& c) {
  for (;;) {
    const auto line = co_await read_line(c);
    if (!line) {
      fail("register " + names_[c.id] + ": connection closed or reply too long");
      co_return false;
    }
    switch (classify_reply(config_.kind, *line)) {
      case reply_kind::accepted:
        co_return true;
      case reply_kind::error:
        fail("register " + names_[c.id] + ": refused: " + std::string(*line));
        co_return false;
      case reply_kind::other:
        break;
    }
  }
}

asio::awaitable<std::optional<std::string_view>> generator::read_line(connection& c) {
  for (;;) {
    char* data = c.input.data();
    const auto* newline =
        static_cast<char*>(std::memchr(data + c.input_begin, '\n', c.input_end - c.input_begin));
    if (newline != nullptr) {
      std::string_view line(data + c.input_begin,
                            static_cast<std::size_t>(newline - data) - c.input_begin);
      c.input_begin = static_cast<std::size_t>(newline - data) + 1;
      if (line.ends_with('\r'))
        line.remove_suffix(1);
      co_return line;
    }
    std::memmove(data, data + c.input_begin, c.input_end - c.input_begin);
    c.input_end -= c.input_begin;
    c.input_begin = 0;
    if (c.input_end == c.input.size())
      co_return std::nullopt;
    const std::span<char> space(data + c.input_end, c.input.size() - c.input_end);
    const auto [error, received] = c.tls ? co_await tls_read_some(c, space)
                                         : co_await c.socket.async_read_some(
                                               asio::buffer(space.data(), space.size()), use_tuple);
    if (error)
      co_return std::nullopt;
    c.input_end += received;
  }
}

asio::awaitable<void> generator::reader(connection& c) {
  for (;;) {
    // One clock read per batch of lines: cheap, and a batch arrives at once.
    const std::uint64_t now = now_ns();
    char* data = c.input.data();
    std::size_t at = c.input_begin;
    while (at < c.input_end) {
      const auto* newline = static_cast<char*>(std::memchr(data + at, '\n', c.input_end - at));
      if (newline == nullptr)
        break;
      const auto length = static_cast<std::size_t>(newline - (data + at));
      std::string_view line(data + at, length);
      if (line.ends_with('\r'))
        line.remove_suffix(1);
      on_line(c, line, now);
      at += length + 1;
    }
    const std::size_t rest = c.input_end - at;
    if (rest != 0 && at != 0)
      std::memmove(data, data + at, rest);
    c.input_begin = 0;
    c.input_end = rest;
    if (rest == c.input.size()) {
      ++result_.connection_errors;
      note_error("a frame longer than the input buffer");
      co_return;
    }
    const std::span<char> space(data + rest, c.input.size() - rest);
    const auto [error, received] = c.tls ? co_await tls_read_some(c, space)
                                         : co_await c.socket.async_read_some(
                                               asio::buffer(space.data(), space.size()), use_tuple);
    if (error) {
      if (!closing_) {
        ++result_.connection_errors;
        note_error(names_[c.id] + " read: " + error.message());
      }
      co_return;
    }
    c.input_end += received;
  }
}

void generator::on_line(connection& c, std::string_view line, std::uint64_t now) {
  bool malformed = false;
  if (const auto received = find_stamp(line, malformed))
    return on_message(c, *received, now);
  if (malformed) {
    ++result_.malformed;
    note_error("malformed stamp: " + std::string(line.substr(0, 120)));
  } else if (is_error_frame(config_.kind, line)) {
    ++result_.error_frames;
    note_error(line.substr(0, 200));
  } else if (!line.empty()) {
    ++result_.other_frames;
  }
}

void generator::on_message(connection& c, const stamp& received, std::uint64_t now) {
  if (received.sender >= connections_.size()) {
    ++result_.misrouted;
    return;
  }
  connection& from = *connections_[received.sender];
  if (from.room != c.room || !from.sender || &from == &c || received.sequence >= from.rounds) {
    ++result_.misrouted;
    return;
  }
  ++result_.received;

  pair_state& pair = c.pairs[from.member];
  const std::uint64_t sequence = received.sequence;
  if (sequence >= pair.next) {
    const std::uint64_t shift = sequence - pair.next + 1;
    pair.seen = shift >= 64 ? 1 : (pair.seen << shift) | 1;
    pair.next = sequence + 1;
    ++pair.unique;
  } else if (const std::uint64_t back = pair.next - 1 - sequence; back < 64) {
    const std::uint64_t bit = std::uint64_t{1} << back;
    if ((pair.seen & bit) != 0) {
      ++result_.duplicated;
    } else {
      pair.seen |= bit;
      ++pair.unique;
      ++result_.reordered;
    }
  } else {
    // Too far back to tell a late message from a duplicate: call it late.
    ++pair.unique;
    ++result_.reordered;
  }

  if (phase_ == phase::measure) {
    ++result_.measured_deliveries;
    latency_.record(now > received.sent_ns ? now - received.sent_ns : 0);
  }
  if (--from.outstanding <= window_limit_ && closed_loop() && sending_)
    wake(from);
}

void generator::append_round(connection& c, std::uint64_t sent_ns) {
  set_stamp(c.payload.data(), c.rounds++, sent_ns);
  if (config_.load == mode::broadcast) {
    append_message(c.pending, config_.kind, c.payload, {});
    ++result_.frames_sent;
  } else {
    const std::size_t first = c.id - c.member;
    for (std::size_t m = 0; m < config_.members; ++m) {
      if (m != c.member)
        append_message(c.pending, config_.kind, c.payload, names_[first + m]);
    }
    result_.frames_sent += config_.members - 1;
  }
  c.outstanding += fanout_;
  ++result_.rounds_sent;
}

void generator::fill_window(connection& c) {
  const std::uint64_t now = now_ns();
  while (c.outstanding <= window_limit_)
    append_round(c, now);
}

void generator::wake(connection& c) {
  if (!c.parked)
    return;
  c.parked = false;
  c.wakeup.cancel();
}

asio::awaitable<void> generator::writer(connection& c) {
  for (;;) {
    if (sending_ && closed_loop())
      fill_window(c);
    if (c.pending.empty()) {
      if (!sending_ || closing_)
        co_return;
      c.parked = true;
      c.wakeup.expires_at(steady::time_point::max());
      co_await c.wakeup.async_wait(use_tuple);
      c.parked = false;
      continue;
    }
    std::swap(c.pending, c.writing);
    const auto [error, written] =
        c.tls ? co_await tls_write(c, c.writing)
              : co_await asio::async_write(c.socket, asio::buffer(c.writing), use_tuple);
    c.writing.clear();
    if (error) {
      if (!closing_) {
        ++result_.connection_errors;
        note_error(names_[c.id] + " write: " + error.message());
      }
      co_return;
    }
  }
}

asio::awaitable<void> generator::stall_monitor() {
  constexpr auto tick = std::chrono::milliseconds(1);
  asio::steady_timer timer(io_);
  while (sending_) {
    const auto due = steady::now() + tick;
    timer.expires_at(due);
    co_await timer.async_wait(use_tuple);
    const auto late = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - due);
    if (phase_ == phase::measure)
      result_.generator_stall_ns =
          std::max(result_.generator_stall_ns, static_cast<std::uint64_t>(late.count()));
  }
}

asio::awaitable<void> generator::pacer() {
  // Open loop: round i is due at begin + i * interval whatever the server
  // does, and is stamped with that due time, so a stall shows up as latency.
  const double interval_ns = 1e9 * static_cast<double>(fanout_) / config_.rate;
  const std::uint64_t begin = now_ns();
  std::uint64_t issued = 0;
  std::size_t next = 0;
  asio::steady_timer timer(io_);
  while (sending_) {
    const std::uint64_t now = now_ns();
    for (;;) {
      const auto due =
          begin + static_cast<std::uint64_t>(static_cast<double>(issued) * interval_ns);
      if (due > now)
        break;
      connection& c = *senders_[next];
      next = next + 1 == senders_.size() ? 0 : next + 1;
      if (c.pending.size() > max_open_loop_backlog) {
        // The target cannot take the offered rate: stop rather than grow without bound.
        fail("open loop: the target fell behind the offered rate (over " +
             std::to_string(max_open_loop_backlog >> 20) + " MiB unsent on one connection)");
        close_all();
        co_return;
      }
      append_round(c, due);
      wake(c);
      ++issued;
    }
    const auto due = begin + static_cast<std::uint64_t>(static_cast<double>(issued) * interval_ns);
    timer.expires_at(start_ + std::chrono::nanoseconds(due));
    co_await timer.async_wait(use_tuple);
  }
}

asio::awaitable<void> generator::drain() {
  const auto deadline = steady::now() + std::chrono::duration_cast<steady::duration>(
                                            std::chrono::duration<double>(config_.drain_s));
  const auto expected = [this] {
    return result_.rounds_sent * static_cast<std::uint64_t>(fanout_);
  };
  while (result_.received < expected() && steady::now() < deadline && !closing_)
    co_await sleep(drain_poll);
}

asio::awaitable<void> generator::sleep(std::chrono::nanoseconds duration) {
  asio::steady_timer timer(io_, duration);
  co_await timer.async_wait(use_tuple);
}

asio::awaitable<boost::system::error_code> generator::start_tls(connection& c) {
  boost::system::error_code error;
  // OpenSSL reads and writes the descriptor itself, and must never block.
  c.socket.non_blocking(true, error);
  if (error)
    co_return error;
  c.tls = std::make_unique<tls_client>(tls_context_->get(), c.socket.native_handle());
  for (;;) {
    const tls_client::step step = c.tls->handshake();
    if (step == tls_client::step::done)
      co_return boost::system::error_code();
    if (const auto failed = co_await tls_wait(c, step))
      co_return failed;
  }
}

asio::awaitable<generator::io_result> generator::tls_read_some(connection& c,
                                                               std::span<char> into) {
  for (;;) {
    std::size_t got = 0;
    const tls_client::step step = c.tls->read_some(into, got);
    if (step == tls_client::step::done)
      co_return io_result{boost::system::error_code(), got};
    if (const auto failed = co_await tls_wait(c, step))
      co_return io_result{failed, 0};
  }
}

asio::awaitable<generator::io_result> generator::tls_write(connection& c,
                                                           std::span<const char> bytes) {
  for (;;) {
    const tls_client::step step = c.tls->write(bytes);
    if (step == tls_client::step::done)
      co_return io_result{boost::system::error_code(), bytes.size()};
    if (const auto failed = co_await tls_wait(c, step))
      co_return io_result{failed, 0};
  }
}

asio::awaitable<boost::system::error_code> generator::tls_wait(connection& c,
                                                               tls_client::step needed) {
  switch (needed) {
    case tls_client::step::want_read:
    case tls_client::step::want_write: {
      const auto [error] = co_await c.socket.async_wait(
          needed == tls_client::step::want_read ? tcp::socket::wait_read : tcp::socket::wait_write,
          use_tuple);
      co_return error;
    }
    case tls_client::step::closed:
      co_return asio::error::eof;
    case tls_client::step::done:
    case tls_client::step::failed:
      break;
  }
  co_return asio::error::fault;
}

void generator::count_losses() {
  result_.expected = result_.rounds_sent * static_cast<std::uint64_t>(fanout_);
  for (const auto& c : connections_) {
    const std::size_t first = c->id - c->member;
    for (std::size_t m = 0; m < config_.senders; ++m) {
      if (m == c->member)
        continue;
      const connection& from = *connections_[first + m];
      const std::uint64_t unique = c->pairs[m].unique;
      if (from.rounds > unique)
        result_.lost += from.rounds - unique;
    }
  }
}

void generator::read_server_rss() {
  if (config_.server_pids.empty())
    return;
  const auto each = process_rss_kib(config_.server_pids);
  if (each)
    result_.server_rss_kib_each = *each;
  result_.server_rss_kib = sum(each);
}

void generator::note_error(std::string_view what) {
  if (result_.first_error.empty())
    result_.first_error = what;
}

void generator::fail(std::string why) {
  if (failed_)
    return;
  failed_ = true;
  result_.failure = std::move(why);
}

void generator::close_all() {
  closing_ = true;
  sending_ = false;
  boost::system::error_code ignored;
  for (auto& c : connections_) {
    c->socket.close(ignored);
    c->wakeup.cancel();
  }
  workers_done_.cancel();
}

}  // namespace

run_result run_load(const options& config) {
  return generator(config).run();
}

}  // namespace cturn::bench
