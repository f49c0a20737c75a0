#pragma once

#include <string>
#include <string_view>

namespace cturn::scripts {

// The cluster's state changes, each one Lua script that Redis runs
// atomically: it checks, changes and publishes the resulting room event in
// one step, so every room has one order of events for every node.
//
// Keys (all under "cturn:"):
//   user:<name>        the node that holds the name
//   key:<name>         the holder's encoded pubkey frame, if it sent a key
//   where:<name>       the room the holder is in
//   room:<room>        the room's members, a list in order of entry
//   skeleton:<skeleton>, skeleton-of:<name>  a name's confusable skeleton,
//                      both ways, held with the name
//   room-skeleton:<skeleton>, room-skeleton-of:<room>  the same for a room
//   room-channel:<room>  the room's pub/sub channel (room_event.hpp)
//   lease:<node>       "1" while the node is alive, with a TTL it renews
//   nodes              every node id that may hold names
//   node-users:<node>  the names a node holds
// The scripts name keys they compute, so they need a single Redis, not a
// Redis Cluster.

// ARGV: node, name, key frame ("" for none), skeleton. 1 claimed, 0 taken
// (the name or its skeleton).
extern const std::string claim_name;
// ARGV: node, name, room, skeleton. 1 created, 0 the room or its skeleton
// exists.
extern const std::string create_room;
// ARGV: node, name, room (and a skeleton it ignores). 1 joined, 0 no such room.
extern const std::string join_room;
// ARGV: node, name. 1 left, 0 in no room.
extern const std::string leave_room;
// ARGV: node, name. Forgets the name, leaving its room (`disconnected`).
extern const std::string drop_name;
// ARGV: [node to retire]. Forgets every node whose lease is gone, each of
// its names as drop_name does; returns how many nodes. With a node given,
// that node's lease is deleted first.
extern const std::string reap_nodes;

// The error a script answers when the calling node's lease is gone: the
// cluster has given the node up, and it must start afresh.
inline constexpr std::string_view lease_lost = "CTURN-LEASE-LOST";

std::string channel_of(std::string_view room);
// The key that holds the name whose look-alike skeleton is `skeleton`.
std::string skeleton_key(std::string_view skeleton);
inline constexpr std::string_view channel_prefix = "cturn:room-channel:";

}  // namespace cturn::scripts
