// Differential: decodes every line both ways, through decode() (which tries
// the scan for messages first) and through decode_general() (the full parse
// alone), and aborts unless both give the same answer: the same error, or the
// same command with every field equal, body text byte for byte.
//
// The input is cut at '\n' into lines, as the session's framer cuts a stream,
// so the session fuzzer's corpus serves here too; the whole input is decoded
// once more as one line, where each '\n' is JSON white space.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <variant>

#include "protocol/decode.hpp"
#include "protocol/decode_general.hpp"

namespace {

[[noreturn]] void differ(const char* what, std::string_view line) {
  std::fprintf(stderr, "scan and parse differ: %s\nline (%zu bytes): %.*s\n", what, line.size(),
               static_cast<int>(line.size()), line.data());
  std::abort();
}

bool same_fields(const cturn::set_username& a, const cturn::set_username& b) {
  return a.name == b.name && a.public_key == b.public_key &&
         a.public_key_valid == b.public_key_valid;
}
bool same_fields(const cturn::create_room& a, const cturn::create_room& b) {
  return a.name == b.name;
}
bool same_fields(const cturn::join_room& a, const cturn::join_room& b) {
  return a.name == b.name;
}
bool same_fields(const cturn::leave_room&, const cturn::leave_room&) {
  return true;
}
bool same_fields(const cturn::send_message& a, const cturn::send_message& b) {
  return a.body == b.body && a.to == b.to;
}

void compare(std::string_view line) {
  const auto decoded = cturn::decode(line);
  const auto parsed = cturn::decode_general(line);
  if (decoded.has_value() != parsed.has_value())
    differ(decoded ? "decoded, the parser refuses" : "refused, the parser decodes", line);
  if (!parsed) {
    if (decoded.error() != parsed.error())
      differ("another error", line);
    return;
  }
  if (decoded->index() != parsed->index())
    differ("another command", line);
  const bool same = std::visit(
      [&](const auto& command) {
        return same_fields(command, std::get<std::decay_t<decltype(command)>>(*parsed));
      },
      *decoded);
  if (!same)
    differ("a field differs", line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  compare(input);
  if (input.find('\n') == std::string_view::npos)
    return 0;
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos)
      end = input.size();
    compare(input.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
