#include "cluster/scripts.hpp"

namespace cturn::scripts {
namespace {

// Shared by every script: Redis compiles each script whole, so the helpers
// are prepended to each.
constexpr const char* prelude = R"lua(
local function lease_alive(node)
  return redis.call('EXISTS', 'cturn:lease:' .. node) == 1
end
local function require_lease(node)
  if not lease_alive(node) then
    error({err = 'CTURN-LEASE-LOST'})
  end
end
local function owns(node, name)
  return redis.call('GET', 'cturn:user:' .. name) == node
end
-- A name this node no longer holds means the cluster has given it up.
local function require_holder(node, name)
  require_lease(node)
  if not owns(node, name) then
    error({err = 'CTURN-LEASE-LOST'})
  end
end
-- Takes `name` out of its room; the members left hear `tag`.
local function leave(name, tag)
  local room = redis.call('GET', 'cturn:where:' .. name)
  if not room then
    return false
  end
  redis.call('LREM', 'cturn:room:' .. room, 1, name)
  redis.call('DEL', 'cturn:where:' .. name)
  -- Redis deletes an empty list: the room is gone, and so is its skeleton.
  if redis.call('EXISTS', 'cturn:room:' .. room) == 0 then
    local skeleton = redis.call('GET', 'cturn:room-skeleton-of:' .. room)
    if skeleton then
      redis.call('DEL', 'cturn:room-skeleton:' .. skeleton)
    end
    redis.call('DEL', 'cturn:room-skeleton-of:' .. room)
  end
  redis.call('PUBLISH', 'cturn:room-channel:' .. room, tag .. '\n' .. name)
  return true
end
local function drop(node, name)
  if not owns(node, name) then
    return
  end
  leave(name, 'D')
  local skeleton = redis.call('GET', 'cturn:skeleton-of:' .. name)
  if skeleton then
    redis.call('DEL', 'cturn:skeleton:' .. skeleton)
  end
  redis.call('DEL', 'cturn:user:' .. name, 'cturn:key:' .. name, 'cturn:skeleton-of:' .. name)
  redis.call('SREM', 'cturn:node-users:' .. node, name)
end
)lua";

std::string with_prelude(const char* body) {
  return std::string(prelude) + body;
}

}  // namespace

const std::string claim_name = with_prelude(R"lua(
local node, name, key, skeleton = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
require_lease(node)
-- A name that looks like one in use is taken too (an exact match has the
-- same skeleton); the skeleton is held for as long as the name.
if redis.call('EXISTS', 'cturn:skeleton:' .. skeleton) == 1 then
  return 0
end
if not redis.call('SET', 'cturn:user:' .. name, node, 'NX') then
  return 0
end
redis.call('SET', 'cturn:skeleton:' .. skeleton, name)
redis.call('SET', 'cturn:skeleton-of:' .. name, skeleton)
if key ~= '' then
  redis.call('SET', 'cturn:key:' .. name, key)
end
redis.call('SADD', 'cturn:node-users:' .. node, name)
return 1
)lua");

const std::string create_room = with_prelude(R"lua(
local node, name, room, skeleton = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
require_holder(node, name)
-- A room that looks like one that exists exists too (an exact match has the
-- same skeleton); the skeleton is held for as long as the room.
if redis.call('EXISTS', 'cturn:room-skeleton:' .. skeleton) == 1 then
  return 0
end
local members = 'cturn:room:' .. room
if redis.call('EXISTS', members) == 1 then
  return 0
end
redis.call('SET', 'cturn:room-skeleton:' .. skeleton, room)
redis.call('SET', 'cturn:room-skeleton-of:' .. room, skeleton)
redis.call('RPUSH', members, name)
redis.call('SET', 'cturn:where:' .. name, room)
redis.call('PUBLISH', 'cturn:room-channel:' .. room, 'C\n' .. name)
return 1
)lua");

const std::string join_room = with_prelude(R"lua(
local node, name, room = ARGV[1], ARGV[2], ARGV[3]
require_holder(node, name)
local members = 'cturn:room:' .. room
if redis.call('EXISTS', members) == 0 then
  return 0
end
local keys = {}
for _, member in ipairs(redis.call('LRANGE', members, 0, -1)) do
  local key = redis.call('GET', 'cturn:key:' .. member)
  if key then
    keys[#keys + 1] = key
  end
end
redis.call('RPUSH', members, name)
redis.call('SET', 'cturn:where:' .. name, room)
local own = redis.call('GET', 'cturn:key:' .. name) or '\n'
redis.call('PUBLISH', 'cturn:room-channel:' .. room,
           'J\n' .. name .. '\n' .. own .. table.concat(keys))
return 1
)lua");

const std::string leave_room = with_prelude(R"lua(
local node, name = ARGV[1], ARGV[2]
require_holder(node, name)
if leave(name, 'L') then
  return 1
end
return 0
)lua");

const std::string drop_name = with_prelude(R"lua(
drop(ARGV[1], ARGV[2])
return 1
)lua");

const std::string reap_nodes = with_prelude(R"lua(
if ARGV[1] then
  redis.call('DEL', 'cturn:lease:' .. ARGV[1])
end
local reaped = 0
for _, node in ipairs(redis.call('SMEMBERS', 'cturn:nodes')) do
  if not lease_alive(node) then
    for _, name in ipairs(redis.call('SMEMBERS', 'cturn:node-users:' .. node)) do
      drop(node, name)
    end
    redis.call('DEL', 'cturn:node-users:' .. node)
    redis.call('SREM', 'cturn:nodes', node)
    reaped = reaped + 1
  end
end
return reaped
)lua");

std::string skeleton_key(std::string_view skeleton) {
  std::string key = "cturn:skeleton:";
  key.append(skeleton);
  return key;
}

std::string channel_of(std::string_view room) {
  std::string channel(channel_prefix);
  channel.append(room);
  return channel;
}

}  // namespace cturn::scripts
