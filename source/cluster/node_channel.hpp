#pragma once

#include <optional>
#include <string_view>

namespace cturn {

// What travels on a node's own channel (scripts::node_channel_of): a
// directed message for one of its clients, as `room \n message-event`, put
// together by scripts::publish_message. Room names hold no '\n'.
struct node_message {
  std::string_view room;
  std::string_view event;  // a room_event's wire form
};

// The views point into `payload`; nullopt when there is no room in front.
std::optional<node_message> split_node_message(std::string_view payload);

}  // namespace cturn
