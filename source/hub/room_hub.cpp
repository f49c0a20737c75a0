#include "hub/room_hub.hpp"

#include <algorithm>

#include "log.hpp"
#include "protocol/names.hpp"

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
  client.deliver(encode_error(error));
}

void room_hub::fail(participant& client, protocol_error error) {
  const auto found = clients_.find(&client);
  if (found == clients_.end() || found->second.closing)
    return;
  found->second.closing = true;
  reject(client, error);
  client.close_after_flush();
}

void room_hub::registration_deadline(participant& client) {
  const auto found = clients_.find(&client);
  if (found != clients_.end() && found->second.username.empty())
    fail(client, protocol_error::username_timeout);
}

void room_hub::disconnect(participant& client, std::string_view reason) {
  const auto found = clients_.find(&client);
  if (found == clients_.end())
    return;
  client_state& state = found->second;
  if (state.current_room != nullptr)
    exit_room(state, "disconnected");
  if (!state.username.empty())
    usernames_.erase(state.username);
  log_event(log_level::info, "disconnect",
            {{"id", client.connection_id()}, {"user", state.username}, {"reason", reason}});
  clients_.erase(found);
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
  if (username_in_use(*name))
    return reject(self, protocol_error::username_taken);
  if (!request.public_key_valid)
    return reject(self, protocol_error::public_key_invalid);

  client.username = std::move(*name);
  if (request.public_key)
    client.public_key_frame = encode_public_key(client.username, *request.public_key);
  usernames_.emplace(client.username, &client);
  log_event(log_level::info, "username", {{"id", self.connection_id()}, {"user", client.username}});
  self.deliver(encode_welcome("Username set to: " + client.username));
}

void room_hub::on_command(client_state& client, create_room& request) {
  participant& self = *client.self;
  if (client.current_room != nullptr)
    return reject(self, protocol_error::leave_room_first);
  auto name = normalize_room_name(request.name);
  if (!name)
    return reject(self, name.error());
  const auto [created, inserted] = rooms_.try_emplace(*name);
  if (!inserted)
    return reject(self, protocol_error::room_exists);

  room& target = created->second;
  target.name = std::move(*name);
  log_event(log_level::info, "room-created", {{"room", target.name}, {"user", client.username}});
  target.members.push_back(&client);
  client.current_room = &target;
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
  std::string room_name = client.current_room->name;
  exit_room(client, "left the room");
  self.deliver(encode_welcome("Left room: " + room_name));
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

void room_hub::exit_room(client_state& client, std::string_view verb) {
  room& current = *client.current_room;
  client.current_room = nullptr;
  std::erase(current.members, &client);
  if (current.members.empty()) {
    log_event(log_level::info, "room-deleted", {{"room", current.name}});
    rooms_.erase(rooms_.find(current.name));
    return;
  }
  std::string notice = client.username;
  notice.push_back(' ');
  notice.append(verb);
  broadcast(current, encode_system(notice));
}

void room_hub::broadcast(const room& target, const frame& bytes, const client_state* except) {
  for (const client_state* member : target.members) {
    if (member != except)
      member->self->deliver(bytes);
  }
}

}  // namespace cturn
