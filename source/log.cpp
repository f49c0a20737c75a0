#include "log.hpp"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>
#include <utility>

#include "text/json_string.hpp"

namespace cturn {
namespace {

std::atomic<log_level> current_level{log_level::info};

std::string_view level_name(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
    case log_level::off:
      return "off";
  }
  return "?";
}

bool needs_quoting(std::string_view value) {
  if (value.empty())
    return true;
  for (const char c : value) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == 0x7F)
      return true;
  }
  return false;
}

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  out.append(text, length);
  const char fraction[] = {'.', static_cast<char>('0' + millis / 100),
                           static_cast<char>('0' + millis / 10 % 10),
                           static_cast<char>('0' + millis % 10), 'Z'};
  out.append(fraction, sizeof fraction);
}

std::string format_line(log_level level, std::string_view event,
                        std::span<const log_field> fields) {
  std::string line;
  line.reserve(128);
  append_timestamp(line);
  line.push_back(' ');
  line.append(level_name(level));
  line.push_back(' ');
  line.append(event);
  for (const log_field& field : fields) {
    line.push_back(' ');
    line.append(field.key);
    line.push_back('=');
    if (needs_quoting(field.value)) {
      append_json_string(line, field.value);
    } else {
      line.append(field.value);
    }
  }
  line.push_back('\n');
  return line;
}

// The queue between the threads that log and the one that writes to stderr.
class log_writer {
 public:
  // Never destroyed: at exit the writer thread may still be blocked on a
  // stderr nobody reads, and must not find its state gone.
  static log_writer& instance() {
    static log_writer* const writer = new log_writer;
    return *writer;
  }

  void push(const std::string& line) {
    const std::lock_guard lock(mutex_);
    if (queue_.size() + line.size() > queue_limit_bytes) {
      ++dropped_;
      return;
    }
    queue_.append(line);
    wakeup_.notify_one();
  }

 private:
  // Lines waiting to be written; as many again can be in the writer's hands.
  static constexpr std::size_t queue_limit_bytes = 256 * 1024;
  // Poll interval of a stalled write, and how long exit waits for the queue.
  static constexpr int poll_interval_ms = 200;
  static constexpr auto exit_flush_budget = std::chrono::seconds(2);

  log_writer() {
    // The writer never takes a signal: SIGTERM and SIGINT are the server's
    // (and, once it is gone, ignored), which only holds if no other thread
    // can be picked to receive them. The thread inherits the blocked set.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    std::thread([this] { run(); }).detach();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    std::atexit([] { instance().flush_for_exit(); });
  }

  void run() {
    std::string batch;
    for (;;) {
      std::uint64_t dropped = 0;
      {
        std::unique_lock lock(mutex_);
        idle_ = true;
        drained_.notify_all();
        wakeup_.wait(lock, [this] { return !queue_.empty() || dropped_ > 0; });
        idle_ = false;
        batch.swap(queue_);
        dropped = std::exchange(dropped_, 0);
      }
      write_out(batch);
      batch.clear();
      if (dropped > 0) {
        const log_field count("count", dropped);
        write_out(format_line(log_level::warn, "log-dropped", {&count, 1}));
      }
    }
  }

  // Writes through poll() in pieces a pipe takes whole, so that a full pipe
  // costs this thread a wait, never a blocked write it cannot leave.
  static void write_out(std::string_view text) {
    while (!text.empty()) {
      pollfd ready{STDERR_FILENO, POLLOUT, 0};
      const int polled = ::poll(&ready, 1, poll_interval_ms);
      if (polled < 0 && errno != EINTR)
        return;
      if (polled <= 0)
        continue;
      if ((ready.revents & (POLLERR | POLLNVAL)) != 0)
        return;  // stderr is gone: the rest is lost either way
      const std::size_t piece = std::min<std::size_t>(text.size(), PIPE_BUF);
      const ssize_t written = ::write(STDERR_FILENO, text.data(), piece);
      if (written < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (written <= 0)
        return;
      text.remove_prefix(static_cast<std::size_t>(written));
    }
  }

  // Gives the last lines (`stopped`, a fatal error) a bounded chance to get out.
  void flush_for_exit() {
    std::unique_lock lock(mutex_);
    drained_.wait_for(lock, exit_flush_budget, [this] { return queue_.empty() && idle_; });
  }

  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::condition_variable drained_;
  std::string queue_;
  std::uint64_t dropped_ = 0;
  bool idle_ = false;
};

}  // namespace

std::optional<log_level> parse_log_level(std::string_view name) {
  for (const log_level level :
       {log_level::debug, log_level::info, log_level::warn, log_level::error, log_level::off}) {
    if (name == level_name(level))
      return level;
  }
  return std::nullopt;
}

void set_log_level(log_level level) {
  current_level.store(level, std::memory_order_relaxed);
}

bool log_enabled(log_level level) {
  return level != log_level::off && level >= current_level.load(std::memory_order_relaxed);
}

std::string exception_text(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "unknown";
  }
}

void log_event(log_level level, std::string_view event,
               std::initializer_list<log_field> fields) noexcept {
  log_event(level, event, std::span<const log_field>(fields.begin(), fields.size()));
}

void log_event(log_level level, std::string_view event,
               std::span<const log_field> fields) noexcept {
  if (!log_enabled(level))
    return;
  try {
    log_writer::instance().push(format_line(level, event, fields));
  } catch (...) {
    // Out of memory for a log line: the event goes unlogged, serving goes on.
  }
}

}  // namespace cturn
