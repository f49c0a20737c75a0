// cturn-bare-relay: the I/O floor of CTurn's design on this machine.
//
// Built the way the server is (Asio C++20 coroutines, one reader and one
// writer coroutine per connection, one shared_ptr<const std::string> per
// broadcast, gathered writes of everything queued), minus everything that is
// CTurn: no JSON, no usernames rules, no rooms protocol, no strands, no limits
// but the output bound. cturn-bench drives it with --target bare.
//
// Wire format, one line each way:
//   client: "join <group> <name>"  first line; the relay answers "ok"
//           "@<name> <payload>"    directed: "<payload>" goes to <name> in the group
//           "<payload>"            broadcast: the line goes to every other member
//   relay:  "ok", "error <why>" (then close), or relayed lines

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t max_line_bytes = 64 * 1024;
constexpr std::size_t max_output_bytes = 4 * 1024 * 1024;

// Shared by every recipient; one allocation holds the bytes and the
// reference count, as in the server.
struct frame {
  std::shared_ptr<char[]> bytes;
  std::size_t size = 0;
};

frame make_frame(std::string_view line) {
  frame result{std::make_shared_for_overwrite<char[]>(line.size() + 1), line.size() + 1};
  std::copy(line.begin(), line.end(), result.bytes.get());
  result.bytes[line.size()] = '\n';
  return result;
}

class session;

// Lets a directed line look its recipient up by string_view, without a copy.
struct name_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const {
    return std::hash<std::string_view>{}(name);
  }
};

struct group {
  std::vector<session*> members;
  std::unordered_map<std::string, session*, name_hash, std::equal_to<>> by_name;
};

using group_map = std::unordered_map<std::string, group>;

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, group_map& groups)
      : socket_(std::move(socket)), wakeup_(socket_.get_executor()), groups_(groups) {}

  void start() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    const auto on_exit = [self = shared_from_this()](const std::exception_ptr& failure) {
      if (!failure)
        return;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& error) {
        std::cerr << "session error: " << error.what() << '\n';
      }
      self->stop();
    };
    asio::co_spawn(socket_.get_executor(), read_loop(), on_exit);
    asio::co_spawn(socket_.get_executor(), write_loop(), on_exit);
  }

  void deliver(const frame& bytes) {
    if (stopped_)
      return;
    if (queued_bytes_ + bytes.size > max_output_bytes) {
      // Not now: the caller may be iterating over the group this would leave.
      stopped_ = true;
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->leave(); });
      return;
    }
    queue_.push_back(bytes);
    queued_bytes_ += bytes.size;
    if (parked_) {
      parked_ = false;
      wakeup_.cancel();
    }
  }

 private:
  asio::awaitable<void> read_loop() {
    const auto self = shared_from_this();
    std::string buffer;
    for (;;) {
      const auto [error, ignored] = co_await asio::async_read_until(
          socket_, asio::dynamic_buffer(buffer, max_line_bytes + 1), '\n', use_tuple);
      if (error || stopped_)
        co_return stop();
      std::size_t consumed = 0;
      for (std::size_t end; (end = buffer.find('\n', consumed)) != std::string::npos;) {
        std::string_view line(buffer.data() + consumed, end - consumed);
        consumed = end + 1;
        if (!line.empty() && line.back() == '\r')
          line.remove_suffix(1);
        if (!line.empty())
          handle(line);
        if (stopped_)
          co_return;
      }
      buffer.erase(0, consumed);
    }
  }

  asio::awaitable<void> write_loop() {
    const auto self = shared_from_this();
    std::vector<frame> writing;
    std::vector<asio::const_buffer> buffers;
    for (;;) {
      if (stopped_)
        co_return;
      if (queue_.empty()) {
        if (closing_)
          break;
        parked_ = true;
        wakeup_.expires_at(asio::steady_timer::time_point::max());
        co_await wakeup_.async_wait(use_tuple);
        continue;
      }
      writing.swap(queue_);
      buffers.clear();
      for (const frame& bytes : writing)
        buffers.emplace_back(bytes.bytes.get(), bytes.size);
      const auto [error, written] = co_await asio::async_write(socket_, buffers, use_tuple);
      writing.clear();
      if (error)
        co_return stop();
      queued_bytes_ -= written;
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  void handle(std::string_view line) {
    if (group_ == nullptr)
      return join(line);
    if (line.front() == '@') {
      const auto space = line.find(' ');
      if (space == std::string_view::npos)
        return;
      const auto found = group_->by_name.find(line.substr(1, space - 1));
      if (found != group_->by_name.end())
        found->second->deliver(make_frame(line.substr(space + 1)));
      return;
    }
    const frame bytes = make_frame(line);
    for (session* member : group_->members) {
      if (member != this)
        member->deliver(bytes);
    }
  }

  void join(std::string_view line) {
    const auto first = line.find(' ');
    const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (!line.starts_with("join ") || second == std::string_view::npos || second + 1 == line.size())
      return refuse("expected: join <group> <name>");
    group_name_ = line.substr(first + 1, second - first - 1);
    group& target = groups_[group_name_];
    name_ = line.substr(second + 1);
    if (!target.by_name.emplace(name_, this).second) {
      if (target.members.empty())
        groups_.erase(group_name_);
      return refuse("name taken");
    }
    target.members.push_back(this);
    group_ = &target;
    deliver(make_frame("ok"));
  }

  void refuse(std::string_view why) {
    deliver(make_frame("error " + std::string(why)));
    closing_ = true;
    if (parked_) {
      parked_ = false;
      wakeup_.cancel();
    }
  }

  void stop() {
    if (stopped_)
      return;
    stopped_ = true;
    leave();
  }

  void leave() {
    if (group_ != nullptr) {
      std::erase(group_->members, this);
      group_->by_name.erase(name_);
      if (group_->members.empty())
        groups_.erase(group_name_);
      group_ = nullptr;
    }
    queue_.clear();
    boost::system::error_code ignored;
    socket_.close(ignored);
    wakeup_.cancel();
  }

  tcp::socket socket_;
  asio::steady_timer wakeup_;
  group_map& groups_;
  group* group_ = nullptr;
  std::string group_name_;
  std::string name_;
  std::vector<frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool parked_ = false;
  bool closing_ = false;
  bool stopped_ = false;
};

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, group_map& groups) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(use_tuple);
    if (error == asio::error::operation_aborted)
      co_return;
    if (error) {
      // Out of descriptors, most likely: back off instead of spinning.
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    std::make_shared<session>(std::move(socket), groups)->start();
  }
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  std::string bind = "127.0.0.1";
  unsigned long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--bind" && i + 1 < argc) {
      bind = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::cerr << "usage: cturn-bare-relay [--bind ADDR] [--port N]   (port 0 picks a free one)\n";
      return arg == "--help" ? 0 : 2;
    }
  }
  if (port > 65535) {
    std::cerr << "cturn-bare-relay: --port must be at most 65535\n";
    return 2;
  }
  raise_descriptor_limit();

  try {
    asio::io_context io(1);
    tcp::acceptor acceptor(
        io, tcp::endpoint(asio::ip::make_address(bind), static_cast<unsigned short>(port)));
    group_map groups;
    asio::co_spawn(io, accept_loop(acceptor, groups), [](const std::exception_ptr& failure) {
      if (failure)
        std::rethrow_exception(failure);
    });
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    std::cerr << "listening address=" << acceptor.local_endpoint().address().to_string()
              << " port=" << acceptor.local_endpoint().port() << std::endl;
    io.run();
  } catch (const std::exception& error) {
    std::cerr << "cturn-bare-relay: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
