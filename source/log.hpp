#pragma once

#include <cstdint>
#include <exception>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cturn {

enum class log_level { debug, info, warn, error, off };

std::optional<log_level> parse_log_level(std::string_view name);
void set_log_level(log_level level);
bool log_enabled(log_level level);

struct log_field {
  log_field(std::string_view key_, std::string_view value_) : key(key_), value(value_) {}
  log_field(std::string_view key_, std::uint64_t value_)
      : key(key_), value(std::to_string(value_)) {}
  std::string_view key;
  std::string value;
};

// One line on stderr: `<UTC time> <level> <event> key=value ...`. Values with
// spaces, quotes or control characters are written as JSON strings, so a
// username cannot forge extra fields or lines.
//
// Never blocks and never throws: the line goes to a bounded in-memory queue
// that a thread of the log's own writes out, so a stderr nobody reads (a
// stalled log collector, a paused pager) cannot stall serving. When the queue
// is full the line is dropped and counted; a `log-dropped count=N` line
// follows once the writer has made room again.
void log_event(log_level level, std::string_view event,
               std::initializer_list<log_field> fields = {}) noexcept;
// The same, for fields kept for later (see chatter_log).
void log_event(log_level level, std::string_view event, std::span<const log_field> fields) noexcept;

// What a caught exception says, for a log field ("unknown" when it is not a
// std::exception).
std::string exception_text(const std::exception_ptr& failure);

}  // namespace cturn
