#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "protocol/encode.hpp"

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

void log_event(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
  if (!log_enabled(level))
    return;
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
  // One write per line keeps lines from different threads whole.
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (written <= 0)
      return;
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace cturn
