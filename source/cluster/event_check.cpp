#include "cluster/event_check.hpp"

#include <algorithm>

#include "protocol/decode.hpp"
#include "protocol/json_scanner.hpp"
#include "protocol/names.hpp"
#include "text/json_string.hpp"

namespace cturn {
namespace {

// `{"type":"<type>","sender":<sender as JSON>,"body":`, as encode.cpp writes it.
bool starts_as_encoded(std::string_view& rest, std::string_view type, std::string_view sender) {
  std::string expected;
  expected.reserve(40 + type.size() + sender.size());
  expected.append(R"({"type":)");
  append_json_string(expected, type);
  expected.append(R"(,"sender":)");
  append_json_string(expected, sender);
  expected.append(R"(,"body":)");
  if (!rest.starts_with(expected))
    return false;
  rest.remove_prefix(expected.size());
  return true;
}

// One line of the encoder's: valid JSON (UTF-8 checked), ending with its only
// '\n'; no '\r' either, which the encoder turns into a space.
bool is_encoded_frame(std::string_view frame, std::string_view type, std::string_view sender) {
  if (frame.size() < 2 || frame.back() != '\n')
    return false;
  const std::string_view line = frame.substr(0, frame.size() - 1);
  if (std::any_of(line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }))
    return false;
  std::string_view rest = line;
  if (!starts_as_encoded(rest, type, sender))
    return false;
  // The body is one level down in the frame's object.
  json_scanner whole(line, max_json_depth + 1);
  return whole.skip_value(0) && whole.at_end();
}

}  // namespace

bool is_message_frame_from(std::string_view frame, std::string_view sender) {
  return is_encoded_frame(frame, "message", sender);
}

bool is_key_frame_from(std::string_view frame, std::string_view sender) {
  return is_encoded_frame(frame, "pubkey", sender);
}

bool is_own_event(const room_event& event) {
  // Names hold no control characters (protocol/names.cpp); a payload whose
  // name does could only be a forgery.
  if (has_control_character(event.user))
    return false;
  switch (event.type) {
    case room_event::kind::message:
      return is_message_frame_from(event.frame, event.user);
    case room_event::kind::joined:
      if (!event.frame.empty() && !is_key_frame_from(event.frame, event.user))
        return false;
      // The scripts no longer publish the members' keys in the event.
      return event.key_frames.empty();
    case room_event::kind::key_changed:
      return is_key_frame_from(event.frame, event.user);
    case room_event::kind::taken_over:
      return !event.node.empty() && !has_control_character(event.node);
    case room_event::kind::created:
    case room_event::kind::left:
    case room_event::kind::disconnected:
      return true;
  }
  return false;
}

}  // namespace cturn
