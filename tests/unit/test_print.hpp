#pragma once

#include <ostream>

#include "config.hpp"
#include "protocol/error.hpp"

namespace cturn {

// Let BOOST_TEST print these enums when a comparison fails.

inline std::ostream& operator<<(std::ostream& out, protocol_error error) {
  return out << "protocol_error(" << static_cast<int>(error) << ": " << wire_text(error) << ")";
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

}  // namespace cturn
