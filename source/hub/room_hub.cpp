#include "hub/room_hub.hpp"

#include <algorithm>

#include "hub/registration.hpp"
#include "log.hpp"
#include "metrics/metrics.hpp"
#include "protocol/names.hpp"
#include "protocol/notice.hpp"
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
  if (const auto refused = check_registered(state, request))
    return reject(client, *refused);
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
  if (found != clients_.end() && found->second.name.empty())
    fail(client, protocol_error::username_timeout);
}

void room_hub::disconnect(participant& client, disconnect_reason reason) {
  const auto found = clients_.find(&client);
  if (found != clients_.end())
    announce(remove_client(found), log_text(reason));
}

room_hub::departure room_hub::remove_client(client_map::iterator found) noexcept {
  client_state& state = found->second;
  departure gone;
  gone.self = state.self;
  gone.id = state.self->connection_id();
  gone.username = std::move(state.name);
  if (state.room != nullptr)
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
    announce_exit(gone.remaining, gone.deleted_room, gone.username,
                  room_fanout::exit_kind::disconnected, nullptr);
  gone.self->log_chatter(chatter_event::disconnect,
                         {{"id", gone.id}, {"user", gone.username}, {"reason", reason}});
}

void room_hub::shutdown() {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  const frame notice_frame = encode_notice(notice::shutting_down);
  for (auto& [self, state] : clients_) {
    if (state.closing)
      continue;
    state.closing = true;
    self->deliver(notice_frame);
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
  for (const local_member* member : found->second.members)
    names.push_back(member->name);
  return names;
}

void room_hub::on_command(client_state& client, set_username& request) {
  participant& self = *client.self;
  auto claim = prepare_claim(client, request);
  if (!claim)
    return reject(self, claim.error());
  if (client_state* holder = resumable_holder(claim->name, request))
    return take_over(client, clients_.find(holder->self), std::move(*claim));
  // The name itself, or one that looks the same, is in use: both are "taken"
  // (an exact match has the same skeleton).
  if (const auto refused =
          claim_verdict(skeletons_.contains(claim->skeleton), request.public_key_valid))
    return reject(self, *refused);

  // Everything that can fail comes before the first change of state.
  resume_token token = make_resume_token();
  const frame welcome =
      encode_welcome_with_resume(notice_text(notice::username_set, claim->name), token.text);
  skeletons_.insert(claim->skeleton);
  usernames_.emplace(claim->name, &client);
  client.name = std::move(claim->name);
  client.skeleton = std::move(claim->skeleton);
  client.public_key_frame = std::move(claim->key_frame);
  client.resume = token.digest;
  self.log_chatter(chatter_event::username, {{"id", self.connection_id()}, {"user", client.name}});
  self.deliver(welcome);
  self.registered();
}

room_hub::client_state* room_hub::resumable_holder(std::string_view name,
                                                   const set_username& request) {
  // With an invalid key, the path of a username without a token (the name
  // is held, so: taken), as a cluster node answers before it asks Redis.
  if (!request.resume || !request.public_key_valid)
    return nullptr;
  const auto held = usernames_.find(name);
  if (held == usernames_.end() || held->second->closing)
    return nullptr;
  client_state* holder = held->second;
  return same_resume_digest(holder->resume, digest_of_resume_token(*request.resume)) ? holder
                                                                                     : nullptr;
}

void room_hub::take_over(client_state& client, client_map::iterator holder, name_claim&& claim) {
  participant& self = *client.self;
  client_state& old = holder->second;
  participant& ghost = *old.self;

  // Everything that can fail comes before the first change of state.
  resume_token token = make_resume_token();
  const frame welcome =
      encode_welcome_with_resume(notice_text(notice::username_set, claim.name), token.text);
  const frame farewell = encode_notice(notice::resumed_elsewhere);
  // A resume without a key keeps the one the name had: a client that sent
  // none before sends none again, and one that did may not resend it.
  const bool key_changed =
      claim.key_frame &&
      (!old.public_key_frame || old.public_key_frame->text() != claim.key_frame->text());
  std::vector<frame> keys;
  if (old.room != nullptr)
    keys = keys_of_members(*old.room, &old);
  const std::uint64_t ghost_id = ghost.connection_id();

  // The name, its skeleton and its room move to the new connection; the old
  // one leaves no trace, so its disconnect later is a no-op.
  client.name = std::move(old.name);
  client.skeleton = std::move(old.skeleton);
  // Assigned in place, not through a temporary optional: GCC 12 at -O2/-O3
  // took the temporary's frame for uninitialised (-Wmaybe-uninitialized).
  if (claim.key_frame)
    client.public_key_frame = std::move(claim.key_frame);
  else
    client.public_key_frame = std::move(old.public_key_frame);
  client.resume = token.digest;
  local_room* room = old.room;
  usernames_.find(client.name)->second = &client;
  if (room != nullptr)
    room_fanout::take_place(*room, client, &old);  // its place: the old one's, found
  clients_.erase(holder);

  // The ghost first: its close lets out any lines it still holds back
  // (participant::log_chatter), before this line names it.
  ghost.deliver(farewell);
  ghost.close_after_flush();
  self.log_chatter(chatter_event::resume,
                   {{"id", self.connection_id()}, {"user", client.name}, {"replaced", ghost_id}});
  self.deliver(welcome);
  self.registered();
  if (room != nullptr)
    room_fanout::resumed(*room, client, key_changed ? &*client.public_key_frame : nullptr, keys);
}

void room_hub::on_command(client_state& client, create_room& request) {
  participant& self = *client.self;
  if (client.room != nullptr)
    return reject(self, protocol_error::leave_room_first);
  auto name = normalize_room_name(request.name);
  if (!name)
    return reject(self, name.error());
  // As for usernames: a room that looks like one that exists exists (an
  // exact match has the same skeleton). `join` wants the exact name.
  std::string skeleton = confusable_skeleton(*name);
  if (room_skeletons_.contains(skeleton))
    return reject(self, protocol_error::room_exists);

  // Room for the creator is made before the room is inserted: adding the
  // creator then cannot fail and leave a room without members behind.
  room_state fresh;
  fresh.name = *name;
  fresh.skeleton = skeleton;
  fresh.members.reserve(1);
  const auto held = room_skeletons_.insert(std::move(skeleton)).first;
  room_state* created = nullptr;
  try {
    created = &rooms_.emplace(std::move(*name), std::move(fresh)).first->second;
  } catch (...) {
    room_skeletons_.erase(held);
    throw;
  }
  log_event(log_level::info, "room-created", {{"room", created->name}, {"user", client.name}});
  room_fanout::created(*created, client.name, &client);
}

void room_hub::on_command(client_state& client, join_room& request) {
  participant& self = *client.self;
  if (client.room != nullptr)
    return reject(self, protocol_error::leave_room_first);
  const auto name = normalize_room_name(request.name);
  if (!name)
    return reject(self, name.error());
  const auto found = rooms_.find(*name);
  if (found == rooms_.end())
    return reject(self, protocol_error::room_missing);

  local_room& target = found->second;
  const std::vector<frame> keys = keys_of_members(target);
  room_fanout::joined(target, client.name,
                      client.public_key_frame ? &*client.public_key_frame : nullptr, &client, keys);
}

void room_hub::on_command(client_state& client, leave_room&) {
  if (client.room == nullptr)
    return reject(*client.self, protocol_error::not_in_room);
  std::string deleted_name;
  const local_room* remaining = detach_from_room(client, deleted_name);
  announce_exit(remaining, deleted_name, client.name, room_fanout::exit_kind::left, client.self);
}

void room_hub::on_command(client_state& client, send_message& request) {
  if (client.room == nullptr)
    return reject(*client.self, protocol_error::join_room_first);
  const local_room& target = *client.room;
  const frame bytes = encode_message(client.name, request.body);
  if (!request.to)
    return room_fanout::broadcast_message(target, &client, bytes);
  const auto recipient = usernames_.find(*request.to);
  room_fanout::direct_message(target, recipient == usernames_.end() ? nullptr : recipient->second,
                              bytes);
}

std::vector<frame> room_hub::keys_of_members(const local_room& target, const local_member* except) {
  std::vector<frame> keys;
  for (const local_member* member : target.members) {
    if (member == except)
      continue;
    // Every member of a room here is one of this hub's clients.
    const auto& state = static_cast<const client_state&>(*member);
    if (state.public_key_frame)
      keys.push_back(*state.public_key_frame);
  }
  return keys;
}

local_room* room_hub::detach_from_room(client_state& client, std::string& deleted_name) noexcept {
  local_room& current = *client.room;
  room_fanout::remove(current, client);
  if (!current.members.empty())
    return &current;
  const auto found = rooms_.find(current.name);
  room_skeletons_.erase(found->second.skeleton);
  deleted_name = std::move(found->second.name);
  rooms_.erase(found);
  return nullptr;
}

void room_hub::announce_exit(const local_room* remaining, std::string_view deleted_name,
                             std::string_view user, room_fanout::exit_kind how,
                             participant* leaver) {
  if (remaining == nullptr) {
    log_event(log_level::info, "room-deleted", {{"room", deleted_name}});
    room_fanout::announce_exit({}, deleted_name, user, how, leaver);
    return;
  }
  room_fanout::announce_exit(remaining->members, remaining->name, user, how, leaver);
}

}  // namespace cturn
