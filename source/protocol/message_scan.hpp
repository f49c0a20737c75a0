#pragma once

#include <optional>
#include <string_view>

#include "protocol/command.hpp"

namespace cturn {

// The fast path of decode() for the commonest line, a valid `message` frame:
// {"type":"message","body":{"content":"…",…}}, with or without `to` in the
// body, any key order, white space and extra members. One validating pass
// over the line (json_scanner) and no document built: no allocation but for a
// `to` too long for std::string's inline buffer, as on the general path.
//
// The answer is either exactly what decode_general(line) answers, or nullopt
// for "not sure": every other command, every error, and the rare messages a
// scan cannot decide on its own (an escaped key, `type` or `to`; a member
// that decides the command given twice). The caller then parses in full.
std::optional<send_message> scan_message(std::string_view line);

}  // namespace cturn
