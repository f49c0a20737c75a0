#pragma once

#include <string_view>

#include "cluster/room_event.hpp"

namespace cturn {

// Whether a parsed room event is one the nodes themselves could have
// published: every frame it carries is a frame the node's encoder makes for
// its user (a `message` or `pubkey` frame from that sender, one line of
// valid JSON). Anyone who can PUBLISH on a cturn channel could otherwise put
// arbitrary bytes (terminal escapes, broken JSON) on members' screens
// through a node. A forgery that is well formed in every byte cannot be told
// from a real event without authenticating Redis's clients: that is what
// Redis's ACL is for (docs/cluster.md).
bool is_own_event(const room_event& event);

// The frame-level checks, one pass each, no allocation.
bool is_message_frame_from(std::string_view frame, std::string_view sender);
bool is_key_frame_from(std::string_view frame, std::string_view sender);

}  // namespace cturn
