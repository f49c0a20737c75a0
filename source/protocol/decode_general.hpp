#pragma once

#include <string_view>
#include <tl/expected.hpp>

#include "protocol/command.hpp"
#include "protocol/error.hpp"

namespace cturn {

// decode() by the general path: a full Boost.JSON parse of the line, then the
// protocol's rows read off the document. It decides every line; decode() asks
// it about those its scan for messages is not sure of, and the tests compare
// the two.
tl::expected<command, protocol_error> decode_general(std::string_view line);

}  // namespace cturn
