#include "protocol/decode.hpp"

#include <optional>
#include <utility>

#include "protocol/decode_general.hpp"
#include "protocol/message_scan.hpp"

namespace cturn {

tl::expected<command, protocol_error> decode(std::string_view line) {
  // Most lines are messages. A validating scan decides those for a fraction
  // of a full parse, which builds a document only to read three members of it
  // and then needs a second pass for the body's text.
  if (std::optional<send_message> message = scan_message(line))
    return *std::move(message);
  return decode_general(line);
}

}  // namespace cturn
