#include "hub/room_hub.hpp"

#include <algorithm>

#include "log.hpp"
#include "metrics/metrics.hpp"
#include "protocol/names.hpp"
#include "text/confusable_skeleton.hpp"

namespace cturn {

bool room_hub::connect(participant& client) {
  if (shutting_down_)
    return false;
  clients_.try_emplace(&client).first->second.self = &client;
  return true;
}

void room_hub::handle(participant& client, command&& request) {
  const auto found = clients_.find(&client);
  if (found == clients_.end() || found->second.closing)
    return;
  client_state& state = found->second;
  if (state.username.empty() && !std::holds_alternative<set_username>(request)) {
    reject(client, protocol_error::username_required);
    return;
  }
  std::visit([&](auto& typed) { on_command(state, typed); }, request);
}

void room_hub::reject(participant& client, protocol_error error) {
  metrics::count_error(error);
  client.deliver(encode_error(error));
}

void room_hub::fail(participant& client, protocol_error error) {
  const auto found = clients_.find(&client);
  if (found == clients_.end() || found->second.closing)
    return;
  const departure gone = remove_client(found);
  // The client first: if a notice to its room fails, it is closed anyway.
  reject(client, error);
  client.close_after_flush();
  announce(gone, wire_text(error));
}

void room_hub::registration_deadline(participant& client) {
  const auto found = clients_.find(&client);
  if (found != clients_.end() && found->second.username.empty())
    fail(client, protocol_error::username_timeout);
}

void room_hub::disconnect(participant& client, std::string_view reason) {
  const auto found = clients_.find(&client);
  if (found != clients_.end())
    announce(remove_client(found), reason);
}

room_hub::departure room_hub::remove_client(client_map::iterator found) noexcept {
  client_state& state = found->second;
  departure gone;
  gone.id = state.self->connection_id();
  gone.username = std::move(state.username);
  if (state.current_room != nullptr)
    gone.remaining = detach_from_room(state, gone.deleted_room);
  if (!gone.username.empty()) {
    usernames_.erase(gone.username);
    skeletons_.erase(state.skeleton);
  }
  clients_.erase(found);
  return gone;
}

void room_hub::announce(const departure& gone, std::string_view reason) {
  if (gone.remaining != nullptr || !gone.deleted_room.empty())
    announce_exit(gone.remaining, gone.username, "disconnected", gone.deleted_room);
  log_event(log_level::info, "disconnect",
            {{"id", gone.id}, {"user", gone.username}, {"reason", reason}});
}

void room_hub::shutdown() {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  const frame notice = encode_system("Server shutting down");
  for (auto& [self, state] : clients_) {
    if (state.closing)
      continue;
    state.closing = true;
    self->deliver(notice);
    self->close_after_flush();
  }
}

bool room_hub::username_in_use(std::string_view name) const {
  return usernames_.find(name) != usernames_.end();
}

std::optional<std::vector<std::string>> room_hub::room_members(std::string_view name) const {
  const auto found = rooms_.find(name);
  if (found == rooms_.end())
    return std::nullopt;
  std::vector<std::string> names;
  for (const client_state* member : found->second.members)
    names.push_back(member->username);
  return names;
}

void room_hub::on_command(client_state& client, set_username& request) {
  participant& self = *client.self;
  if (!client.username.empty())
    return reject(self, protocol_error::username_already_set);
  auto name = normalize_username(request.name);
  if (!name)
    return reject(self, name.error());
  // The name itself, or one that looks the same, is in use: both are "taken"
  // (an exact match has the same skeleton).
  std::string skeleton = confusable_skeleton(*name);
  if (skeletons_.contains(skeleton))
    return reject(self, protocol_error::username_taken);
  if (!request.public_key_valid)
    return reject(self, protocol_error::public_key_invalid);

  // Everything that can fail comes before the first change of state.
  std::optional<frame> key_frame;
  if (request.public_key)
    key_frame = encode_public_key(*name, *request.public_key);
  const frame welcome = encode_welcome("Username set to: " + *name);
  skeletons_.insert(skeleton);
  usernames_.emplace(*name, &client);
  client.username = std::move(*name);
  client.skeleton = std::move(skeleton);
  client.public_key_frame = std::move(key_frame);
  log_event(log_level::info, "username", {{"id", self.connection_id()}, {"user", client.username}});
  self.deliver(welcome);
  self.registered();
}

void room_hub::on_command(client_state& client, create_room& request) {
  participant& self = *client.self;
  if (client.current_room != nullptr)
    return reject(self, protocol_error::leave_room_first);
  auto name = normalize_room_name(request.name);
  if (!name)
    return reject(self, name.error());
  // As for usernames: a room that looks like one that exists exists (an
  // exact match has the same skeleton). `join` wants the exact name.
  std::string skeleton = confusable_skeleton(*name);
  if (room_skeletons_.contains(skeleton))
    return reject(self, protocol_error::room_exists);

  // Built whole before it is inserted, so a failed allocation leaves no
  // room without members behind.
  room fresh{.name = *name, .skeleton = skeleton, .members = {&client}};
  const auto held = room_skeletons_.insert(std::move(skeleton)).first;
  room* created = nullptr;
  try {
    created = &rooms_.emplace(std::move(*name), std::move(fresh)).first->second;
  } catch (...) {
    room_skeletons_.erase(held);
    throw;
  }
  room& target = *created;
  client.current_room = &target;
  log_event(log_level::info, "room-created", {{"room", target.name}, {"user", client.username}});
  self.deliver(encode_welcome("Created and joined room: " + target.name));
  broadcast(target, encode_system(client.username + " created the room"));
  enter_room(client, target);
}

void room_hub::on_command(client_state& client, join_room& request) {
  participant& self = *client.self;
  if (client.current_room != nullptr)
    return reject(self, protocol_error::leave_room_first);
  const auto name = normalize_room_name(request.name);
  if (!name)
    return reject(self, name.error());
  const auto found = rooms_.find(*name);
  if (found == rooms_.end())
    return reject(self, protocol_error::room_missing);

  room& target = found->second;
  target.members.push_back(&client);
  client.current_room = &target;
  self.deliver(encode_welcome("Joined room: " + target.name));
  broadcast(target, encode_system(client.username + " joined the room"), &client);
  enter_room(client, target);
}

void room_hub::on_command(client_state& client, leave_room&) {
  participant& self = *client.self;
  if (client.current_room == nullptr)
    return reject(self, protocol_error::not_in_room);
  std::string deleted_name;
  room* remaining = detach_from_room(client, deleted_name);
  announce_exit(remaining, client.username, "left the room", deleted_name);
  self.deliver(
      encode_welcome("Left room: " + (remaining != nullptr ? remaining->name : deleted_name)));
}

void room_hub::on_command(client_state& client, send_message& request) {
  if (client.current_room == nullptr)
    return reject(*client.self, protocol_error::join_room_first);
  const room& target = *client.current_room;
  const frame bytes = encode_message(client.username, request.body);
  if (!request.to)
    return broadcast(target, bytes, &client);

  // A recipient outside the room is not an error: clients keep addressing
  // members that have just left.
  const auto recipient = usernames_.find(*request.to);
  if (recipient != usernames_.end() && recipient->second->current_room == &target)
    recipient->second->self->deliver(bytes);
}

// The key exchange that follows every entry into a room.
void room_hub::enter_room(client_state& client, room& target) {
  for (const client_state* member : target.members) {
    if (member != &client && member->public_key_frame)
      client.self->deliver(*member->public_key_frame);
  }
  if (client.public_key_frame)
    broadcast(target, *client.public_key_frame, &client);
}

room_hub::room* room_hub::detach_from_room(client_state& client,
                                           std::string& deleted_name) noexcept {
  room& current = *client.current_room;
  client.current_room = nullptr;
  std::erase(current.members, &client);
  if (!current.members.empty())
    return &current;
  const auto found = rooms_.find(current.name);
  room_skeletons_.erase(found->second.skeleton);
  deleted_name = std::move(found->second.name);
  rooms_.erase(found);
  return nullptr;
}

void room_hub::announce_exit(room* remaining, std::string_view user, std::string_view verb,
                             std::string_view deleted_name) {
  if (remaining == nullptr) {
    log_event(log_level::info, "room-deleted", {{"room", deleted_name}});
    return;
  }
  std::string notice(user);
  notice.push_back(' ');
  notice.append(verb);
  broadcast(*remaining, encode_system(notice));
}

void room_hub::broadcast(const room& target, const frame& bytes, const client_state* except) {
  for (const client_state* member : target.members) {
    if (member != except)
      member->self->deliver(bytes);
  }
}

}  // namespace cturn
