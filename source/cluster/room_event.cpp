#include "cluster/room_event.hpp"

namespace cturn {
namespace {

// The text up to the next '\n' (which is dropped), or nullopt if there is none.
std::optional<std::string_view> take_field(std::string_view& rest) {
  const auto end = rest.find('\n');
  if (end == std::string_view::npos)
    return std::nullopt;
  const std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return field;
}

// A frame with its '\n', or nullopt if there is none.
std::optional<std::string_view> take_frame(std::string_view& rest) {
  const auto end = rest.find('\n');
  if (end == std::string_view::npos)
    return std::nullopt;
  const std::string_view frame = rest.substr(0, end + 1);
  rest.remove_prefix(end + 1);
  return frame;
}

}  // namespace

std::optional<room_event> parse_room_event(std::string_view payload) {
  std::string_view rest = payload;
  const auto tag = take_field(rest);
  if (!tag || tag->size() != 1)
    return std::nullopt;
  room_event event;
  switch ((*tag)[0]) {
    case 'C':
      event.type = room_event::kind::created;
      break;
    case 'J':
      event.type = room_event::kind::joined;
      break;
    case 'L':
      event.type = room_event::kind::left;
      break;
    case 'D':
      event.type = room_event::kind::disconnected;
      break;
    case 'M':
      event.type = room_event::kind::message;
      break;
    case 'K':
      event.type = room_event::kind::key_changed;
      break;
    case 'T':
      event.type = room_event::kind::taken_over;
      break;
    default:
      return std::nullopt;
  }
  if (event.type == room_event::kind::taken_over) {
    const auto user = take_field(rest);
    if (!user || user->empty() || rest.empty())
      return std::nullopt;
    event.user = *user;
    event.node = rest;
    return event;
  }
  if (event.type != room_event::kind::joined && event.type != room_event::kind::message &&
      event.type != room_event::kind::key_changed) {
    event.user = rest;
    return event.user.empty() ? std::nullopt : std::optional(event);
  }
  const auto user = take_field(rest);
  if (!user || user->empty())
    return std::nullopt;
  event.user = *user;
  const auto frame = take_frame(rest);
  if (!frame)
    return std::nullopt;
  event.frame = *frame == "\n" ? std::string_view() : *frame;
  if (event.type == room_event::kind::key_changed)
    return event.frame.empty() || !rest.empty() ? std::nullopt : std::optional(event);
  if (event.type == room_event::kind::message) {
    if (event.frame.empty() || rest.empty())
      return std::nullopt;
    if (rest[0] == '+')
      event.to = rest.substr(1);
    else if (rest != "-")
      return std::nullopt;
    return event;
  }
  while (!rest.empty()) {
    const auto key = take_frame(rest);
    if (!key || *key == "\n")
      return std::nullopt;
    event.key_frames.push_back(*key);
  }
  return event;
}

std::string encode_message_event(std::string_view sender, const frame& message,
                                 const std::optional<std::string>& to) {
  std::string payload;
  payload.reserve(8 + sender.size() + message.size() + (to ? to->size() : 0));
  payload.append("M\n").append(sender).append("\n").append(message.text());
  if (to) {
    payload.push_back('+');
    payload.append(*to);
  } else {
    payload.push_back('-');
  }
  return payload;
}

}  // namespace cturn

namespace cturn {

std::string node_channel_room(std::string_view node) {
  std::string room("\n");
  room.append(node);
  return room;
}

}  // namespace cturn
