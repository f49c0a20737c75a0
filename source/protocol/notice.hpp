#pragma once

#include <string>
#include <string_view>

#include "protocol/frame.hpp"

namespace cturn {

// Every welcome and system text the server sends. The wording of each lives
// in notice.cpp, in one table beside the error table, so that both hubs (and
// the server's own turn-away) speak with exactly the same words.
enum class notice {
  username_set,         // welcome, to the client: its name
  room_created,         // welcome, to the creator: the room
  room_joined,          // welcome, to the joiner: the room
  room_left,            // welcome, to the leaver: the room
  member_created_room,  // system, to the room: who created it
  member_joined,        // system, to the room: who joined
  member_left,          // system, to the room: who left
  member_disconnected,  // system, to the room: whose connection ended
  shutting_down,        // system, to everyone as the server stops
  unavailable,          // system, to everyone as a cluster node loses Redis
  resumed_elsewhere,    // system, to a connection whose name a resume took over
};

// The exact `content` of the notice about `subject` (a user or a room; none
// for the server's own notices).
std::string notice_text(notice kind, std::string_view subject = {});

// The whole frame: `welcome` or `system` as the notice is.
frame encode_notice(notice kind, std::string_view subject = {});

}  // namespace cturn
