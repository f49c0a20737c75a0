#pragma once

#include <string>
#include <string_view>

namespace cturn::scripts {

// The cluster's state changes, each one Lua script that Redis runs
// atomically: it checks, changes and publishes the resulting room event in
// one step, so every room has one order of events for every node.
//
// The scripts name keys they compute, so they need a single Redis, not a
// Redis Cluster. Every key's name is spelled once, in `keys` below; the
// scripts get them as a Lua table `K`.

namespace keys {
inline constexpr std::string_view user = "cturn:user:";          // <name>: the node holding it
inline constexpr std::string_view key = "cturn:key:";            // <name>: its encoded pubkey frame
inline constexpr std::string_view skeleton = "cturn:skeleton:";  // <skeleton>: the name
inline constexpr std::string_view skeleton_of = "cturn:skeleton-of:";      // <name>: its skeleton
inline constexpr std::string_view room_skeleton = "cturn:room-skeleton:";  // <skeleton>: room
inline constexpr std::string_view room_skeleton_of = "cturn:room-skeleton-of:";  // <room>: skeleton
inline constexpr std::string_view where = "cturn:where:";  // <name>: the room it is in
inline constexpr std::string_view room = "cturn:room:";    // <room>: its members, a sorted set
inline constexpr std::string_view entry_counter = "cturn:entry-counter";  // orders the entries
inline constexpr std::string_view room_channel = "cturn:room-channel:";   // <room>: pub/sub channel
inline constexpr std::string_view node_channel = "cturn:node-channel:";   // <node>: its channel
inline constexpr std::string_view lease = "cturn:lease:";  // <node>: "1" with a TTL it renews
inline constexpr std::string_view nodes = "cturn:nodes";   // every node id that may hold names
inline constexpr std::string_view node_users = "cturn:node-users:";  // <node>: the names it holds
inline constexpr std::string_view resume = "cturn:resume:";  // <name>: SHA-256 of its resume token

struct named {
  std::string_view field;  // the name in the scripts' table K
  std::string_view prefix;
};
inline constexpr named all[] = {
    {"user", user},
    {"key", key},
    {"skeleton", skeleton},
    {"skeleton_of", skeleton_of},
    {"room_skeleton", room_skeleton},
    {"room_skeleton_of", room_skeleton_of},
    {"where", where},
    {"room", room},
    {"entry_counter", entry_counter},
    {"room_channel", room_channel},
    {"node_channel", node_channel},
    {"lease", lease},
    {"nodes", nodes},
    {"node_users", node_users},
    {"resume", resume},
};
}  // namespace keys

// ARGV: node, name, key frame ("" for none), skeleton, resume digest (hex).
// 1 claimed, 0 taken (the name or its skeleton).
extern const std::string claim_name;
// ARGV: node, name, key frame ("" for none), skeleton, the digest (hex) of
// the token shown, the digest of the next token. When the name is held and
// its digest is the one shown: the name moves to `node` (its old node hears
// `T` on its node channel, the room `K` if the key changed) and the answer
// is [2, its room or "", the other members' key frames]; else exactly
// claim_name's.
extern const std::string resume_name;
// ARGV: node, name, room, skeleton. 1 created, 0 the room or its skeleton
// exists.
extern const std::string create_room;
// ARGV: node, name, room (and a skeleton it ignores). [1, the members' key
// frames, in entry order] when joined, 0 when there is no such room.
extern const std::string join_room;
// ARGV: node, name. 1 left, 0 in no room.
extern const std::string leave_room;
// ARGV: node, then name, room, payload, recipient per message (a batch,
// publish_batch). For each, in order: if `node` still holds `name`,
// publishes the message event on the room's channel, or, with a recipient
// (not empty), `room \n payload` on the channel of the recipient's node (and
// nothing when no node holds that name). A name a resume moved elsewhere
// while the node's lease lives skips its message, and the batch ends with
// the error name_moved; otherwise the error lease_lost, at once.
extern const std::string publish_message;
// ARGV: node, name. Forgets the name, leaving its room (`disconnected`).
extern const std::string drop_name;
// ARGV: [node to retire [, most names]]. Forgets every node whose lease is
// gone, each of its names as drop_name does, at most 100 names (or the
// number given) per run; answers how many names are left to forget, so that
// the caller runs it again at once while that is not 0. With a node given,
// that node's lease is deleted first.
extern const std::string reap_nodes;

// The error a script answers when the calling node's lease is gone: the
// cluster has given the node up, and it must start afresh.
inline constexpr std::string_view lease_lost = "CTURN-LEASE-LOST";
// The error a script answers when the name is now another node's (a
// resume moved it): that client is gone from this node, the node is not.
inline constexpr std::string_view name_moved = "CTURN-NAME-MOVED";

std::string channel_of(std::string_view room);
inline constexpr std::string_view channel_prefix = keys::room_channel;
// The key that holds the name whose look-alike skeleton is `skeleton`.
std::string skeleton_key(std::string_view skeleton);
// The channel where `node` hears the directed messages to its clients.
std::string node_channel_of(std::string_view node);
inline constexpr std::string_view node_channel_prefix = keys::node_channel;
std::string lease_key(std::string_view node);

}  // namespace cturn::scripts
