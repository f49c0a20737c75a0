#include "cluster/scripts.hpp"

namespace cturn::scripts {
namespace {

// Shared by every script: Redis compiles each script whole, so the helpers
// are prepended to each.
constexpr const char* prelude = R"lua(
local function lease_alive(node)
  return redis.call('EXISTS', K.lease .. node) == 1
end
local function require_lease(node)
  if not lease_alive(node) then
    error({err = 'CTURN-LEASE-LOST'})
  end
end
local function owns(node, name)
  return redis.call('GET', K.user .. name) == node
end
-- A name this node no longer holds means the cluster has given it up.
local function require_holder(node, name)
  require_lease(node)
  if not owns(node, name) then
    local holder = redis.call('GET', K.user .. name)
    if holder and holder ~= node then
      error({err = 'CTURN-NAME-MOVED'})
    end
    error({err = 'CTURN-LEASE-LOST'})
  end
end
-- Adds `name` to the members of `room` after those already there: a sorted
-- set ordered by a counter, so that taking one out is O(log n), not O(n).
local function enter(room, name)
  redis.call('ZADD', K.room .. room, redis.call('INCR', K.entry_counter), name)
  redis.call('SET', K.where .. name, room)
end
-- Takes `name` out of its room; the members left hear `tag`.
local function leave(name, tag)
  local room = redis.call('GET', K.where .. name)
  if not room then
    return false
  end
  redis.call('ZREM', K.room .. room, name)
  redis.call('DEL', K.where .. name)
  -- Redis deletes an empty list: the room is gone, and so is its skeleton.
  if redis.call('EXISTS', K.room .. room) == 0 then
    local skeleton = redis.call('GET', K.room_skeleton_of .. room)
    if skeleton then
      redis.call('DEL', K.room_skeleton .. skeleton)
    end
    redis.call('DEL', K.room_skeleton_of .. room)
  end
  redis.call('PUBLISH', K.room_channel .. room, tag .. '\n' .. name)
  return true
end
-- A name this node held and a resume moved to another node, while this
-- node's lease lives: the node drops that client, and only that one.
local function moved_away(node, name)
  local holder = redis.call('GET', K.user .. name)
  return holder and holder ~= node and lease_alive(node)
end
local function claim(node, name, key, skeleton, digest)
  -- A name that looks like one in use is taken too (an exact match has the
  -- same skeleton); the skeleton is held for as long as the name.
  if redis.call('EXISTS', K.skeleton .. skeleton) == 1 then
    return 0
  end
  if not redis.call('SET', K.user .. name, node, 'NX') then
    return 0
  end
  redis.call('SET', K.skeleton .. skeleton, name)
  redis.call('SET', K.skeleton_of .. name, skeleton)
  redis.call('SET', K.resume .. name, digest)
  if key ~= '' then
    redis.call('SET', K.key .. name, key)
  end
  redis.call('SADD', K.node_users .. node, name)
  return 1
end
local function drop(node, name)
  if not owns(node, name) then
    return
  end
  leave(name, 'D')
  local skeleton = redis.call('GET', K.skeleton_of .. name)
  if skeleton then
    redis.call('DEL', K.skeleton .. skeleton)
  end
  redis.call('DEL', K.user .. name, K.key .. name, K.skeleton_of .. name, K.resume .. name)
  redis.call('SREM', K.node_users .. node, name)
end
)lua";

// The key names of keys.hpp as a Lua table K, so that every name is spelled
// once, in C++.
std::string key_table() {
  std::string table = "local K = {";
  for (const auto& [field, prefix] : keys::all) {
    table.append(field).append(" = '").append(prefix).append("', ");
  }
  table.append("}\n");
  return table;
}

std::string with_prelude(const char* body) {
  return key_table() + prelude + body;
}

// Without the prelude: Redis runs a script's whole chunk on every call, and
// the prelude builds a table of key names and seven closures each time. On
// the hottest path, one call per message, that was most of Redis's time per
// message (INFO commandstats: about 10 µs per EVALSHA against 0.4 µs per
// PUBLISH inside it, docs/benchmarks.md). Key names are still spelled once,
// in `keys`, and pasted in here.
std::string bare_publish_message() {
  std::string script = R"lua(
-- ARGV: node, then sender, room, payload, recipient ('' for the whole room)
-- for each message of the batch, in the order the node sent them.
local node = ARGV[1]
-- Who holds a name does not change while the script runs: asked once per
-- name and batch.
local holders = {}
local function holder_of(name)
  local holder = holders[name]
  if holder == nil then
    holder = redis.call('GET', '@user@' .. name)
    holders[name] = holder
  end
  return holder
end
local moved = false
for i = 2, #ARGV, 4 do
  local name, room, payload, to = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  -- The fence: checked by Redis in the step that publishes, so that a
  -- message a node sent before the cluster gave it up (bytes that reach
  -- Redis late, after a pause or a partition) cannot speak for the name's
  -- next holder. The holder is enough: the cluster announces a holder gone
  -- (`disconnected`) in the step that deletes the name, so while the name
  -- is still the node's nothing has been announced.
  local holder_now = holder_of(name)
  if holder_now ~= node then
    -- A name a resume moved to another node while this node's lease lives:
    -- that message is dropped, the batch's others are not, and the node
    -- drops that client (moved_away in the prelude) when told at the end.
    if not holder_now or redis.call('EXISTS', '@lease@' .. node) == 0 then
      error({err = 'CTURN-LEASE-LOST'})
    end
    moved = true
  elseif to ~= '' then
    -- A directed message goes to its recipient's node alone, on that
    -- node's channel, with the room in front. It is published in this same
    -- step, so it takes the same place among the room's events as it would
    -- on the room's channel: a node reads its channel and the room's on one
    -- connection, in the order Redis ran the publishes (docs/cluster.md,
    -- "One order per room"). A name no node holds has no one to deliver
    -- to, as a non-member has not.
    local holder = holder_of(to)
    if holder then
      redis.call('PUBLISH', '@node_channel@' .. holder, room .. '\n' .. payload)
    end
  else
    redis.call('PUBLISH', '@room_channel@' .. room, payload)
  end
end
if moved then
  error({err = 'CTURN-NAME-MOVED'})
end
return 1
)lua";
  const auto paste = [&script](std::string_view placeholder, std::string_view prefix) {
    for (auto at = script.find(placeholder); at != std::string::npos;
         at = script.find(placeholder, at + prefix.size()))
      script.replace(at, placeholder.size(), prefix);
  };
  paste("@user@", keys::user);
  paste("@lease@", keys::lease);
  paste("@node_channel@", keys::node_channel);
  paste("@room_channel@", keys::room_channel);
  return script;
}

}  // namespace

const std::string claim_name = with_prelude(R"lua(
local node, name, key, skeleton, digest = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
require_lease(node)
return claim(node, name, key, skeleton, digest)
)lua");

const std::string resume_name = with_prelude(R"lua(
local node, name, key, skeleton, shown, digest = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
require_lease(node)
local holder = redis.call('GET', K.user .. name)
-- Compared here on digests of 128 random bits: how long the comparison
-- takes tells nothing useful about the token.
if not holder or redis.call('GET', K.resume .. name) ~= shown then
  return claim(node, name, key, skeleton, digest)
end
-- The takeover, fenced like a claim: from now on the old holder's node
-- cannot act for the name (owns() is false there).
redis.call('SET', K.user .. name, node)
redis.call('SREM', K.node_users .. holder, name)
redis.call('SADD', K.node_users .. node, name)
redis.call('SET', K.resume .. name, digest)
local changed = false
if key ~= '' and redis.call('GET', K.key .. name) ~= key then
  redis.call('SET', K.key .. name, key)
  changed = true
end
local room = redis.call('GET', K.where .. name) or ''
local keys = {}
if room ~= '' then
  for _, member in ipairs(redis.call('ZRANGE', K.room .. room, 0, -1)) do
    local other = member ~= name and redis.call('GET', K.key .. member)
    if other then
      keys[#keys + 1] = other
    end
  end
  if changed then
    redis.call('PUBLISH', K.room_channel .. room, 'K\n' .. name .. '\n' .. key)
  end
end
redis.call('PUBLISH', K.room_channel .. '\n' .. holder, 'T\n' .. name .. '\n' .. node)
return {2, room, table.concat(keys)}
)lua");

const std::string create_room = with_prelude(R"lua(
local node, name, room, skeleton = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
require_holder(node, name)
-- A room that looks like one that exists exists too (an exact match has the
-- same skeleton); the skeleton is held for as long as the room.
if redis.call('EXISTS', K.room_skeleton .. skeleton) == 1 then
  return 0
end
local members = K.room .. room
if redis.call('EXISTS', members) == 1 then
  return 0
end
redis.call('SET', K.room_skeleton .. skeleton, room)
redis.call('SET', K.room_skeleton_of .. room, skeleton)
enter(room, name)
redis.call('PUBLISH', K.room_channel .. room, 'C\n' .. name)
return 1
)lua");

const std::string join_room = with_prelude(R"lua(
local node, name, room = ARGV[1], ARGV[2], ARGV[3]
require_holder(node, name)
local members = K.room .. room
if redis.call('EXISTS', members) == 0 then
  return 0
end
local keys = {}
for _, member in ipairs(redis.call('ZRANGE', members, 0, -1)) do
  local key = redis.call('GET', K.key .. member)
  if key then
    keys[#keys + 1] = key
  end
end
enter(room, name)
local own = redis.call('GET', K.key .. name) or '\n'
-- Only the entrant's key travels to every node; the others' go to the
-- entrant's node alone, in the reply.
redis.call('PUBLISH', K.room_channel .. room, 'J\n' .. name .. '\n' .. own)
return {1, table.concat(keys)}
)lua");

const std::string leave_room = with_prelude(R"lua(
local node, name = ARGV[1], ARGV[2]
require_holder(node, name)
if leave(name, 'L') then
  return 1
end
return 0
)lua");

const std::string publish_message = bare_publish_message();

const std::string drop_name = with_prelude(R"lua(
drop(ARGV[1], ARGV[2])
return 1
)lua");

const std::string reap_nodes = with_prelude(R"lua(
if ARGV[1] then
  redis.call('DEL', K.lease .. ARGV[1])
end
-- At most this many names per run, so that no run blocks Redis for long
-- (every node's lease and link checks wait behind it); the caller runs the
-- script again while it answers that names are left.
local budget = tonumber(ARGV[2] or '100')
local left = 0
for _, node in ipairs(redis.call('SMEMBERS', K.nodes)) do
  if not lease_alive(node) then
    local users = K.node_users .. node
    local names = {}
    if budget > 0 then
      names = redis.call('SPOP', users, budget)
    end
    for _, name in ipairs(names) do
      drop(node, name)
    end
    budget = budget - #names
    local remaining = redis.call('SCARD', users)
    if remaining == 0 then
      redis.call('SREM', K.nodes, node)
    end
    left = left + remaining
  end
end
return left
)lua");

std::string skeleton_key(std::string_view skeleton) {
  std::string key(keys::skeleton);
  key.append(skeleton);
  return key;
}

std::string channel_of(std::string_view room) {
  std::string channel(keys::room_channel);
  channel.append(room);
  return channel;
}

std::string node_channel_of(std::string_view node) {
  std::string channel(keys::node_channel);
  channel.append(node);
  return channel;
}

std::string lease_key(std::string_view node) {
  std::string key(keys::lease);
  key.append(node);
  return key;
}

}  // namespace cturn::scripts
