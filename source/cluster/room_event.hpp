#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.hpp"

namespace cturn {

// What travels on a room's channel: every node with members in the room
// receives the room's events in the one order Redis published them, and
// turns each into frames for its own members. The Lua scripts (scripts.cpp)
// publish created/joined/left/disconnected; nodes publish messages.
//
// Wire form, fields separated by '\n' (names hold no control characters,
// and an encoded frame holds no '\n' but its last byte):
//   C \n user                      created
//   J \n user \n own-key-frame-or-empty   joined (the members' keys go to
//                                  the entrant's node in the script's reply;
//                                  the parser still reads key frames after it)
//   L \n user                      left
//   D \n user                      disconnected
//   M \n sender \n message-frame \n (- | +recipient)      message; the
//                                  recipient comes last, since it is any text
//   K \n user \n key-frame         a resume changed the user's key
//   T \n user \n node              a resume moved the user to `node`: on the
//                                  channel of the node that held it (see
//                                  node_channel_room), which closes its
//                                  connection without a word to the room
struct room_event {
  enum class kind { created, joined, left, disconnected, message, key_changed, taken_over };

  kind type = kind::created;
  std::string_view user;
  // joined: the entrant's key frame (empty if none); message: the frame.
  std::string_view frame;
  std::vector<std::string_view> key_frames;  // joined
  std::optional<std::string_view> to;        // message, when directed
  std::string_view node;                     // taken_over: the node that took it
};

// The channel of a node, for what concerns one of its clients and no room:
// the events of a "room" whose name no room can have (room names hold no
// control characters), so that it needs nothing a room does not.
std::string node_channel_room(std::string_view node);

// The views point into `payload`.
std::optional<room_event> parse_room_event(std::string_view payload);

std::string encode_message_event(std::string_view sender, const frame& message,
                                 const std::optional<std::string>& to);

}  // namespace cturn
