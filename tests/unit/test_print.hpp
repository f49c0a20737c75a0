#pragma once

#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "config.hpp"
#include "hub/participant.hpp"
#include "protocol/error.hpp"

namespace cturn {

// Let BOOST_TEST print these enums when a comparison fails.

inline std::ostream& operator<<(std::ostream& out, protocol_error error) {
  return out << "protocol_error(" << static_cast<int>(error) << ": " << wire_text(error) << ")";
}

// Found by argument-dependent lookup: cturn is an associated namespace of
// std::optional<protocol_error>.
inline std::ostream& operator<<(std::ostream& out, const std::optional<protocol_error>& error) {
  return error ? out << *error : out << "no error";
}

inline std::ostream& operator<<(std::ostream& out, startup_action action) {
  switch (action) {
    case startup_action::serve:
      return out << "serve";
    case startup_action::check:
      return out << "check";
    case startup_action::print_and_exit:
      return out << "print_and_exit";
  }
  return out << "startup_action(" << static_cast<int>(action) << ")";
}

inline std::ostream& operator<<(std::ostream& out, log_level level) {
  return out << "log_level(" << static_cast<int>(level) << ")";
}

namespace testing {

// Control and non-ASCII bytes as \xNN, so a failing line can be read in the log.
inline std::string printable(std::string_view line) {
  std::string out;
  for (const char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace testing

inline std::ostream& operator<<(std::ostream& out, chatter_event event) {
  return out << event_name(event);
}

}  // namespace cturn
