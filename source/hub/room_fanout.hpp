#pragma once

#include <span>
#include <string_view>

#include "hub/local_room.hpp"
#include "protocol/frame.hpp"

namespace cturn {

// The step from "a room event happened" to "these frames go to these local
// members", the same for both hubs. What differs between one node and a
// cluster is who decides the order of events (the hub's strand, or the room's
// Redis channel), not what an event means.
//
// Membership changes first, with operations that cannot fail, then the
// frames: a deliver() that throws loses a notice, never a member.
namespace room_fanout {

// `creator` made the room. The creator, if served here, becomes its first
// member and gets its welcome; then every local member hears who created it.
void created(local_room& room, std::string_view creator, local_member* local_creator);

// `entrant` joined. The entrant, if served here, becomes a member. The
// members already there hear it, then get the entrant's key (if it has one);
// then a local entrant gets its welcome and the keys of the members already
// there, in their order of entry.
void joined(local_room& room, std::string_view entrant, const frame* entrant_key,
            local_member* local_entrant, std::span<const frame> keys_of_members);

// `resumer` took its name back with a resume token and is a member again
// without entering: it takes the place of `replaced` (the connection it took
// the name from, if served here and in the room), or the last place.
void take_place(local_room& room, local_member& resumer, const local_member* replaced);

// Then the members hear nothing but its new key (`changed_key`, if the key
// changed); the resumer gets the join's welcome and the keys of the other
// members.
void resumed(const local_room& room, const local_member& resumer, const frame* changed_key,
             std::span<const frame> keys_of_members);

// Takes a local member out of its room; cannot fail.
void remove(local_room& room, local_member& member) noexcept;

enum class exit_kind { left, disconnected };

// `user` is no longer a member (remove() has run for a local one): the
// members that remain hear how it went, then a leaver served here gets its
// welcome. `remaining` may be empty, as when the last member left.
void announce_exit(std::span<local_member* const> remaining, std::string_view room_name,
                   std::string_view user, exit_kind how, participant* local_leaver);

// A message from `sender`: to every member but the sender, or, when it is
// directed, to `recipient` alone if that is a member of this room. A
// recipient outside the room is not an error: clients keep addressing members
// that have just left.
// `sender` is the sending member if it is served here (names are unique, so
// a sender served elsewhere is none of these members).
void broadcast_message(const local_room& room, const local_member* sender, const frame& message);
void direct_message(const local_room& room, const local_member* recipient, const frame& message);

// Every member but `except`.
void deliver_to_room(const local_room& room, const frame& bytes,
                     const local_member* except = nullptr);

}  // namespace room_fanout
}  // namespace cturn
