#pragma once

#include <string_view>
#include <tl/expected.hpp>

#include "protocol/command.hpp"
#include "protocol/error.hpp"

namespace cturn {

// Nesting deeper than this is answered with `Invalid JSON format`.
inline constexpr std::size_t max_json_depth = 64;

// Decodes one line (without its terminator) into a command, applying the
// stateless rows of the protocol's validation table (2–5) in order. Pure: no
// I/O, no state, safe to call from any thread.
tl::expected<command, protocol_error> decode(std::string_view line);

}  // namespace cturn
