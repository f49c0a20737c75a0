#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
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
void log_event(log_level level, std::string_view event,
               std::initializer_list<log_field> fields = {});

}  // namespace cturn
