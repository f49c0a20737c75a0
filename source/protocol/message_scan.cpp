#include "protocol/message_scan.hpp"

#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>

#include "protocol/decode.hpp"
#include "protocol/json_scanner.hpp"

namespace cturn {
namespace {

using string_token = json_scanner::string_token;

// Nesting levels as the parser counts them (max_json_depth).
constexpr std::size_t envelope_level = 1;
constexpr std::size_t body_level = 2;

// Compares with a length known at compile time, which compilers turn into a
// load or two instead of a call to memcmp; keys are compared on every member.
template <std::size_t N>
bool spells(std::string_view text, const char (&word)[N]) {
  return text.size() == N - 1 && std::memcmp(text.data(), word, N - 1) == 0;
}

// What the scan needs of the body object. (Flags rather than optionals: for
// an optional string view here GCC 12 at -O3 wrongly warns "may be used
// uninitialized".)
struct body_members {
  std::string_view text;  // the whole object as written
  bool has_content = false;
  bool has_to = false;
  std::string_view to;
};

// Reads the body object, whose '{' is next. False: not sure.
bool scan_body(json_scanner& in, body_members& body) {
  const std::size_t start = in.position();
  const bool read = in.read_object(body_level, [&](const string_token& key) {
    if (key.has_escapes)
      return false;  // see scan_message
    if (spells(key.raw, "content")) {
      if (body.has_content)
        return false;
      body.has_content = true;
      // Not a string, or empty: `Invalid message content`, the general path's to give.
      string_token content;
      return in.read_string(content) && !content.raw.empty();
    }
    if (spells(key.raw, "to")) {
      if (body.has_to)
        return false;
      // Not a string: `Invalid message content` again. Escapes would need decoding.
      string_token to;
      if (!in.read_string(to) || to.has_escapes)
        return false;
      body.has_to = true;
      body.to = to.raw;
      return true;
    }
    return in.skip_value(body_level);
  });
  if (!read || !body.has_content)
    return false;
  body.text = in.text_between(start, in.position());
  return true;
}

}  // namespace

std::optional<send_message> scan_message(std::string_view line) {
  json_scanner in(line, max_json_depth);
  in.skip_space();
  bool has_type = false;
  bool has_body = false;
  body_members body;
  // The scan gives up on a key with escapes, which could spell "type" or "to"
  // ("t\u006f"), and on a member that decides the command given twice: the
  // parser keeps the last of duplicate keys, which the scan need not mirror.
  const bool read = in.read_object(envelope_level, [&](const string_token& key) {
    if (key.has_escapes)
      return false;
    if (spells(key.raw, "type")) {
      if (has_type)
        return false;
      has_type = true;
      // Another command, or not a string: the general path decides.
      string_token type;
      return in.read_string(type) && !type.has_escapes && spells(type.raw, "message");
    }
    if (spells(key.raw, "body")) {
      if (has_body)
        return false;
      has_body = true;
      return scan_body(in, body);
    }
    return in.skip_value(envelope_level);
  });
  if (!read)
    return std::nullopt;
  in.skip_space();
  if (!in.at_end() || !has_type || !has_body)
    return std::nullopt;
  send_message message{.body = body.text, .to = std::nullopt};
  if (body.has_to)
    message.to.emplace(body.to);
  return message;
}

}  // namespace cturn
