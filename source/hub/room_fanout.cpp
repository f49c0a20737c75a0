#include "hub/room_fanout.hpp"

#include <algorithm>

#include "protocol/notice.hpp"

namespace cturn::room_fanout {

void created(local_room& room, std::string_view creator, local_member* local_creator) {
  if (local_creator != nullptr) {
    room.members.push_back(local_creator);
    local_creator->room = &room;
    local_creator->self->deliver(encode_notice(notice::room_created, room.name));
  }
  deliver_to_room(room, encode_notice(notice::member_created_room, creator));
}

void joined(local_room& room, std::string_view entrant, const frame* entrant_key,
            local_member* local_entrant, std::span<const frame> keys_of_members) {
  if (local_entrant != nullptr) {
    room.members.push_back(local_entrant);
    local_entrant->room = &room;
  }
  deliver_to_room(room, encode_notice(notice::member_joined, entrant), local_entrant);
  if (entrant_key != nullptr)
    deliver_to_room(room, *entrant_key, local_entrant);
  if (local_entrant == nullptr)
    return;
  participant& self = *local_entrant->self;
  self.deliver(encode_notice(notice::room_joined, room.name));
  for (const frame& key : keys_of_members)
    self.deliver(key);
}

void take_place(local_room& room, local_member& resumer, const local_member* replaced) {
  const auto place = std::find(room.members.begin(), room.members.end(), replaced);
  if (replaced != nullptr && place != room.members.end()) {
    *place = &resumer;
  } else {
    room.members.push_back(&resumer);
  }
  resumer.room = &room;
}

void resumed(const local_room& room, const local_member& resumer, const frame* changed_key,
             std::span<const frame> keys_of_members) {
  if (changed_key != nullptr)
    deliver_to_room(room, *changed_key, &resumer);
  participant& self = *resumer.self;
  self.deliver(encode_notice(notice::room_joined, room.name));
  for (const frame& key : keys_of_members)
    self.deliver(key);
}

void remove(local_room& room, local_member& member) noexcept {
  std::erase(room.members, &member);
  if (member.room == &room)
    member.room = nullptr;
}

void announce_exit(std::span<local_member* const> remaining, std::string_view room_name,
                   std::string_view user, exit_kind how, participant* local_leaver) {
  if (!remaining.empty()) {
    const frame notice_frame = encode_notice(
        how == exit_kind::left ? notice::member_left : notice::member_disconnected, user);
    for (const local_member* member : remaining)
      member->self->deliver(notice_frame);
  }
  if (local_leaver != nullptr && how == exit_kind::left)
    local_leaver->deliver(encode_notice(notice::room_left, room_name));
}

void broadcast_message(const local_room& room, const local_member* sender, const frame& message) {
  deliver_to_room(room, message, sender);
}

void direct_message(const local_room& room, const local_member* recipient, const frame& message) {
  if (recipient != nullptr && recipient->room == &room)
    recipient->self->deliver(message);
}

void deliver_to_room(const local_room& room, const frame& bytes, const local_member* except) {
  for (const local_member* member : room.members) {
    if (member != except)
      member->self->deliver(bytes);
  }
}

}  // namespace cturn::room_fanout
