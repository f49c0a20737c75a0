#include "cluster/node_core.hpp"

#include <utility>

#include "cluster/event_check.hpp"
#include "cluster/node_channel.hpp"
#include "cluster/room_event.hpp"
#include "cluster/scripts.hpp"
#include "hub/resume_token.hpp"
#include "hub/room_fanout.hpp"
#include "hub/turn_away.hpp"
#include "log.hpp"
#include "metrics/metrics.hpp"
#include "protocol/encode.hpp"
#include "protocol/names.hpp"
#include "protocol/notice.hpp"
#include "text/confusable_skeleton.hpp"

namespace cturn {

node_core::node_core(now_function now, node_timing timing)
    : now_(std::move(now)), timing_(timing) {}

void node_core::start_serving(std::string node) {
  node_ = std::move(node);
  phase_ = phase::serving;
  levels_changed_ = true;
  // This node's channel: a resume elsewhere says here whose connection to close.
  const std::string own = node_channel_room(node_);
  room_subscriptions::room& channel = subscriptions_.add_interest(own);
  channel.subscribing = true;
  emit(node_action::subscribe{.room = own, .epoch = channel.epoch});
}

std::size_t node_core::rooms_with_members() const {
  return subscriptions_.rooms_with_members();
}

// --- clients -------------------------------------------------------------------

node_core::client_state* node_core::find(const participant* client) {
  const auto found = clients_.find(client);
  return found == clients_.end() ? nullptr : &found->second;
}

void node_core::connect(std::shared_ptr<participant> client) {
  if (phase_ == phase::serving) {
    client_state& state = clients_[client.get()];
    state.self = client.get();
    state.owner = std::move(client);
    return;
  }
  turn_away(*client, phase_ == phase::shutting_down ? metrics::rejection::shutting_down
                                                    : metrics::rejection::redis_unavailable);
}

void node_core::submit(const std::shared_ptr<participant>& client, hub_port::batch& lines,
                       clock::time_point arrived, std::function<void()> done) {
  client_state* state = find(client.get());
  if (state == nullptr || state->closing) {
    done();
    return;
  }
  state->lines = &lines;
  state->next_line = 0;
  state->done = std::move(done);
  state->arrived = arrived;
  state->messages = 0;
  run(*state);
}

void node_core::run(client_state& client) {
  while (client.lines != nullptr && client.wait == waiting::nothing) {
    if (client.next_line == client.lines->size()) {
      // As on a single node: one clock read per batch, each message counted
      // with the time the last one was handed off.
      if (client.messages != 0)
        metrics::observe_handoff(clock::now() - client.arrived, client.messages);
      client.lines = nullptr;
      std::exchange(client.done, {})();
      return;
    }
    auto& line = (*client.lines)[client.next_line++];
    if (!line) {
      reject(*client.owner, line.error());
      continue;
    }
    client.messages += std::holds_alternative<send_message>(*line) ? 1 : 0;
    handle(client, *line);
  }
}

void node_core::handle(client_state& client, command& request) {
  if (const auto refused = check_registered(client, request))
    return reject(*client.owner, *refused);
  if (const auto* typed = std::get_if<set_username>(&request))
    return register_name(client, *typed);
  if (const auto* create = std::get_if<create_room>(&request))
    return enter_room(client, create->name, operation::create);
  if (const auto* join = std::get_if<join_room>(&request))
    return enter_room(client, join->name, operation::join);
  if (std::holds_alternative<cturn::leave_room>(request))
    return leave_room(client);
  publish_message(client, std::get<send_message>(request));
}

void node_core::reject(participant& client, protocol_error error) {
  metrics::count_error(error);
  client.deliver(encode_error(error));
}

// --- commands ---------------------------------------------------------------------

void node_core::register_name(client_state& client, const set_username& request) {
  auto claim = prepare_claim(client, request);
  if (!claim)
    return reject(*client.owner, claim.error());
  client.claim = std::move(*claim);
  if (!request.public_key_valid) {
    // Whether a taken name outranks the bad key is the directory's to say,
    // without claiming the name.
    return call(client, operation::check_taken,
                {"EXISTS", scripts::skeleton_key(client.claim->skeleton)});
  }
  std::string key_frame =
      client.claim->key_frame ? std::string(client.claim->key_frame->text()) : std::string();
  resume_token token = make_resume_token();
  client.claim_token = std::move(token.text);
  if (request.resume) {
    // The script decides: a takeover, or exactly a claim.
    return run_script(client, operation::claim, scripts::resume_name,
                      {node_, client.claim->name, std::move(key_frame), client.claim->skeleton,
                       hex_of(digest_of_resume_token(*request.resume)), hex_of(token.digest)},
                      client.claim->name);
  }
  run_script(client, operation::claim, scripts::claim_name,
             {node_, client.claim->name, std::move(key_frame), client.claim->skeleton,
              hex_of(token.digest)},
             client.claim->name);
}

void node_core::finish_claim(client_state& client, const redis_reply& reply) {
  if (entered(reply) == 2)
    return finish_takeover(client, reply);
  name_claim claim = std::move(*client.claim);
  client.claim.reset();
  const std::string token = std::exchange(client.claim_token, {});
  // The claim script checks the look-alike and the key together: a refusal
  // here can only be a taken name.
  if (reply.integer != 1) {
    reject(*client.owner, protocol_error::username_taken);
    return finish_operation(client);
  }
  client.name = std::move(claim.name);
  names_[client.name] = &client;
  levels_changed_ = true;
  client.owner->log_chatter(chatter_event::username,
                            {{"id", client.owner->connection_id()}, {"user", client.name}});
  client.owner->deliver(
      encode_welcome_with_resume(notice_text(notice::username_set, client.name), token));
  client.owner->registered();
  finish_operation(client);
}

void node_core::finish_takeover(client_state& client, const redis_reply& reply) {
  name_claim claim = std::move(*client.claim);
  client.claim.reset();
  const std::string token = std::exchange(client.claim_token, {});
  const std::string room = reply.elements.size() == 3 ? reply.elements[1].text : std::string();
  // Its interest first: when the connection it took the name from is this
  // node's own, the room's subscription outlives that one's going.
  if (!room.empty())
    subscriptions_.add_interest(room);
  if (const auto held = names_.find(claim.name); held != names_.end())
    drop_taken_over(*held->second);
  client.name = std::move(claim.name);
  names_[client.name] = &client;
  levels_changed_ = true;
  client.owner->log_chatter(chatter_event::resume,
                            {{"id", client.owner->connection_id()}, {"user", client.name}});
  client.owner->deliver(
      encode_welcome_with_resume(notice_text(notice::username_set, client.name), token));
  client.owner->registered();
  if (room.empty())
    return finish_operation(client);
  client.keys_of_members = key_frames_in(reply.elements[2].text);
  client.current = operation::resume;
  client.target_room = room;
  room_subscriptions::room& state = *subscriptions_.find(room);
  if (state.subscribed)
    return rejoin_room(client);
  await_subscription(client, room, state);
}

void node_core::await_subscription(client_state& client, const std::string& room,
                                   room_subscriptions::room& state) {
  state.waiting.push_back(client.owner.get());
  if (!state.subscribing) {
    state.subscribing = true;
    emit(node_action::subscribe{.room = room, .epoch = state.epoch});
  }
  wait_for(client, waiting::subscription);
}

void node_core::rejoin_room(client_state& client) {
  room_subscriptions::room* state = subscriptions_.find(client.target_room);
  local_room& room = state->local;
  const std::vector<frame> keys = std::exchange(client.keys_of_members, {});
  room_fanout::take_place(room, client, nullptr);
  // A changed key went to the room on its channel (`K`).
  room_fanout::resumed(room, client, nullptr, keys);
  finish_operation(client);
}

void node_core::drop_taken_over(client_state& client) {
  const std::shared_ptr<participant> self = client.owner;
  std::function<void()> done = std::move(client.done);
  if (client.room != nullptr) {
    const std::string room = client.room->name;
    room_fanout::remove(*client.room, client);
    drop_interest(room);
  } else if (client.current == operation::create || client.current == operation::join ||
             client.current == operation::resume) {
    drop_interest(client.target_room);
  }
  if (const auto held = names_.find(client.name); held != names_.end() && held->second == &client)
    names_.erase(held);
  self->log_chatter(chatter_event::resumed_elsewhere,
                    {{"id", self->connection_id()}, {"user", client.name}});
  clients_.erase(self.get());
  levels_changed_ = true;
  self->deliver(encode_notice(notice::resumed_elsewhere));
  self->close_after_flush();
  if (done)
    done();
}

void node_core::enter_room(client_state& client, std::string_view content, operation kind) {
  if (client.room != nullptr)
    return reject(*client.owner, protocol_error::leave_room_first);
  auto room = normalize_room_name(content);
  if (!room)
    return reject(*client.owner, room.error());
  // Subscribed before the script runs: the node must not miss the room's
  // events from this client's entry on.
  room_subscriptions::room& state = subscriptions_.add_interest(*room);
  client.current = kind;
  client.target_room = *room;
  client.event_seen = false;
  if (state.subscribed)
    return run_entry_script(client);
  await_subscription(client, *room, state);
}

void node_core::run_entry_script(client_state& client) {
  const std::string& script =
      client.current == operation::create ? scripts::create_room : scripts::join_room;
  // `join` wants the exact name; only `create` looks at the skeleton.
  run_script(client, client.current, script,
             {node_, client.name, client.target_room, confusable_skeleton(client.target_room)});
}

void node_core::leave_room(client_state& client) {
  if (client.room == nullptr)
    return reject(*client.owner, protocol_error::not_in_room);
  client.current = operation::leave;
  client.target_room = client.room->name;
  client.event_seen = false;
  run_script(client, operation::leave, scripts::leave_room, {node_, client.name});
}

void node_core::publish_message(client_state& client, const send_message& request) {
  if (client.room == nullptr)
    return reject(*client.owner, protocol_error::join_room_first);
  const frame bytes = encode_message(client.name, request.body);
  // Even a node's own members get the message from Redis: one order per
  // room for everyone. A directed one goes to its recipient's node alone.
  emit(node_action::publish{.sender = client.name,
                            .room = client.room->name,
                            .payload = encode_message_event(client.name, bytes, request.to),
                            .to = request.to});
  if (request.to && *request.to == client.name) {
    // To oneself: later answers to this client must not overtake it.
    client.current = operation::message;
    client.target_room = client.room->name;
    client.event_seen = false;
    wait_for(client, waiting::own_event);
  }
}

void node_core::run_script(client_state& client, operation purpose, const std::string& script,
                           std::vector<std::string> arguments, std::string claimed_name) {
  const std::string eval[] = {"EVAL", script, "0"};
  arguments.insert(arguments.begin(), std::begin(eval), std::end(eval));
  call(client, purpose, std::move(arguments), std::move(claimed_name));
}

void node_core::call(client_state& client, operation purpose, std::vector<std::string> arguments,
                     std::string claimed_name) {
  const std::uint64_t request = next_request_++;
  requests_[request] = pending_request{.client = client.owner.get(),
                                       .connection = client.owner->connection_id(),
                                       .purpose = purpose,
                                       .name = std::move(claimed_name)};
  if (client.current == operation::none)
    client.current = purpose;
  emit(node_action::call{.request = request, .arguments = std::move(arguments)});
  wait_for(client, waiting::reply);
}

void node_core::wait_for(client_state& client, waiting what) {
  client.wait = what;
  client.deadline = now_() + timing_.reply_timeout;
}

void node_core::finish_operation(client_state& client) {
  client.current = operation::none;
  client.wait = waiting::nothing;
  client.target_room.clear();
  client.event_seen = false;
  ready_.push_back(client.owner.get());
}

void node_core::run_ready() {
  while (!ready_.empty()) {
    const participant* next = ready_.front();
    ready_.erase(ready_.begin());
    if (client_state* client = find(next); client != nullptr && !client->closing)
      run(*client);
  }
}

// --- replies -----------------------------------------------------------------------

void node_core::on_reply(std::uint64_t request, const redis_reply& reply) {
  const auto found = requests_.find(request);
  if (found == requests_.end())
    return;
  const pending_request asked = std::move(found->second);
  requests_.erase(found);
  client_state* client = find(asked.client);
  const bool same_client = client != nullptr && client->owner->connection_id() == asked.connection;
  if (reply.is_error()) {
    if (reply.text.find(scripts::name_moved) == std::string::npos)
      return on_command_error(reply);
    // This client's name was taken over: it goes, the node stays.
    if (same_client)
      drop_taken_over(*client);
    return run_ready();
  }
  if (!same_client || client->closing) {
    // Gone while its claim was in flight: the name must not stay held by a
    // client that no longer exists.
    if (asked.purpose == operation::claim && entered(reply) >= 1)
      emit(node_action::send{.arguments = {"EVAL", scripts::drop_name, "0", node_, asked.name}});
    return;
  }
  switch (asked.purpose) {
    case operation::check_taken:
      client->claim.reset();
      reject(*client->owner, claim_verdict(reply.integer == 1, false).value());
      finish_operation(*client);
      break;
    case operation::claim:
      finish_claim(*client, reply);
      break;
    case operation::create:
    case operation::join:
      if (entered(reply) != 1) {
        const std::string room = client->target_room;
        reject(*client->owner, asked.purpose == operation::create ? protocol_error::room_exists
                                                                  : protocol_error::room_missing);
        finish_operation(*client);
        drop_interest(room);
        break;
      }
      if (asked.purpose == operation::join)
        take_keys_of_members(*client, reply);
      else
        await_own_event(*client);
      break;
    case operation::leave:
      if (reply.integer != 1) {
        // Redis and this node disagree; Redis is the truth: the client is in
        // no room, here too.
        log_event(log_level::warn, "cluster-mismatch",
                  {{"user", client->name}, {"room", client->target_room}});
        if (client->room != nullptr) {
          const std::string room = client->room->name;
          room_fanout::remove(*client->room, *client);
          drop_interest(room);
        }
        reject(*client->owner, protocol_error::not_in_room);
        finish_operation(*client);
        break;
      }
      await_own_event(*client);
      break;
    case operation::none:
    case operation::message:
    case operation::resume:
      break;
  }
  run_ready();
}

long long node_core::entered(const redis_reply& reply) {
  // join_room answers [1, the members' key frames] or 0.
  if (reply.type == redis_reply::kind::array && !reply.elements.empty())
    return reply.elements.front().integer;
  return reply.integer;
}

std::vector<frame> node_core::key_frames_in(std::string_view rest) {
  std::vector<frame> keys;
  // Encoded frames end with their only '\n'.
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::size_t length = end == std::string_view::npos ? rest.size() : end + 1;
    keys.emplace_back(rest.substr(0, length));
    rest.remove_prefix(length);
  }
  return keys;
}

void node_core::take_keys_of_members(client_state& client, const redis_reply& reply) {
  std::vector<frame> keys;
  if (reply.elements.size() == 2)
    keys = key_frames_in(reply.elements[1].text);
  if (!client.event_seen) {
    client.keys_of_members = std::move(keys);
    return wait_for(client, waiting::own_event);
  }
  // The joined event came first: what the room sent since is held behind
  // the welcome; the keys go between the two.
  client.self = client.owner.get();
  std::vector<frame> held = std::exchange(client.held.frames, {});
  for (std::size_t i = 0; i < held.size(); ++i) {
    client.owner->deliver(held[i]);
    if (i == 0)
      for (const frame& key : keys)
        client.owner->deliver(key);
  }
  finish_operation(client);
}

void node_core::on_command_error(const redis_reply& reply) {
  if (reply.text.find(scripts::name_moved) != std::string::npos) {
    // A message from a connection whose name a resume has just moved: the
    // takeover's event closes that connection; nothing else is wrong.
    log_event(log_level::info, "message-after-takeover", {});
    return;
  }
  const bool lease_gone = reply.text.find(scripts::lease_lost) != std::string::npos;
  if (!lease_gone)
    log_event(log_level::error, "redis-error", {{"what", reply.text}});
  give_up(lease_gone ? give_up_reason::lease_expired : give_up_reason::script_failed);
}

void node_core::await_own_event(client_state& client) {
  if (client.event_seen)
    return finish_operation(client);
  wait_for(client, waiting::own_event);
}

void node_core::on_subscribed(const std::string& room, std::uint64_t epoch, bool ok) {
  room_subscriptions::room* answered = subscriptions_.answered(room, epoch);
  if (answered == nullptr)
    return;
  room_subscriptions::room& state = *answered;
  state.subscribing = false;
  if (!ok)
    return give_up(give_up_reason::subscribe_failed);
  state.subscribed = true;
  const std::vector<const participant*> waiting_clients = std::exchange(state.waiting, {});
  for (const participant* waiter : waiting_clients) {
    client_state* client = find(waiter);
    if (client == nullptr || client->wait != waiting::subscription || client->target_room != room)
      continue;
    if (client->current == operation::resume)
      rejoin_room(*client);
    else
      run_entry_script(*client);
  }
  run_ready();
}

// --- rooms and their events ----------------------------------------------------------

void node_core::drop_interest(const std::string& room) {
  if (subscriptions_.drop_interest(room))
    emit(node_action::unsubscribe{.room = room});
}

void node_core::drop_foreign(std::string_view channel) {
  metrics::local().foreign_events.add();
  // Anyone who can reach Redis can send these as fast as it likes: the log
  // hears of the first and then of every thousandth; the metric counts all.
  if (foreign_events_++ % 1000 == 0)
    log_event(log_level::warn, "cluster-bad-event",
              {{"channel", channel}, {"count", foreign_events_}});
}

void node_core::on_room_event(const std::string& room_name, std::string_view payload) {
  room_subscriptions::room* listened = subscriptions_.find(room_name);
  if (listened == nullptr || !listened->subscribed)
    return;
  // Parsed and checked once per node, however many members it has here.
  const auto event = parse_room_event(payload);
  if (!event || !is_own_event(*event))
    return drop_foreign(room_name);
  apply_event(room_name, *event);
}

void node_core::on_node_event(std::string_view payload) {
  const auto split = split_node_message(payload);
  const auto event = split ? parse_room_event(split->event) : std::nullopt;
  // Only directed messages travel on a node's channel.
  if (!event || event->type != room_event::kind::message || !event->to || !is_own_event(*event))
    return drop_foreign(node_);
  const std::string room_name(split->room);
  room_subscriptions::room* listened = subscriptions_.find(room_name);
  // A recipient that has left the room (and this node with it) since.
  if (listened == nullptr || !listened->subscribed)
    return;
  apply_event(room_name, *event);
}

void node_core::apply_event(const std::string& room_name, const room_event& event) {
  local_room& room = subscriptions_.find(room_name)->local;
  const std::string user(event.user);
  const auto named = names_.find(user);
  client_state* local = named == names_.end() ? nullptr : named->second;
  // The local client whose own command this event completes, if any.
  const auto completes = [&](operation kind) -> client_state* {
    return local != nullptr && local->current == kind && local->target_room == room_name ? local
                                                                                         : nullptr;
  };
  const auto seen = [this](client_state& client) {
    client.event_seen = true;
    if (client.wait == waiting::own_event)
      finish_operation(client);
  };

  levels_changed_ = levels_changed_ || event.type != room_event::kind::message;
  switch (event.type) {
    case room_event::kind::created: {
      client_state* creator = completes(operation::create);
      if (creator != nullptr)
        log_event(log_level::info, "room-created", {{"room", room_name}, {"user", user}});
      room_fanout::created(room, user, creator);
      if (creator != nullptr)
        seen(*creator);
      break;
    }
    case room_event::kind::joined: {
      client_state* entrant = completes(operation::join);
      std::optional<frame> entrant_key;
      if (!event.frame.empty())
        entrant_key.emplace(event.frame);
      // The members' keys come with the script's reply, to this node alone
      // (an event that carried them would grow with the room, for every
      // node). Before the reply, the entrant's frames are held.
      if (entrant != nullptr && entrant->wait == waiting::reply) {
        entrant->held.id = entrant->owner->connection_id();
        entrant->self = &entrant->held;
      }
      std::vector<frame> keys;
      if (entrant != nullptr)
        keys = std::exchange(entrant->keys_of_members, {});
      room_fanout::joined(room, user, entrant_key ? &*entrant_key : nullptr, entrant, keys);
      if (entrant != nullptr)
        seen(*entrant);
      break;
    }
    case room_event::kind::left:
    case room_event::kind::disconnected: {
      const bool member = local != nullptr && local->room == &room;
      if (member)
        room_fanout::remove(room, *local);
      client_state* leaver = member ? completes(operation::leave) : nullptr;
      room_fanout::announce_exit(room.members, room_name, user,
                                 event.type == room_event::kind::left
                                     ? room_fanout::exit_kind::left
                                     : room_fanout::exit_kind::disconnected,
                                 leaver != nullptr ? leaver->owner.get() : nullptr);
      if (leaver != nullptr)
        seen(*leaver);
      if (member)
        drop_interest(room_name);  // may erase `room`
      break;
    }
    case room_event::kind::key_changed:
      room_fanout::deliver_to_room(room, frame(event.frame), local);
      break;
    case room_event::kind::taken_over:
      // On this node's channel; when the node that took the name is this
      // one, the script's reply has already dropped the old connection.
      // Only there: a takeover heard on a room's channel is not one.
      if (local != nullptr && event.node != node_ && room_name == node_channel_room(node_))
        drop_taken_over(*local);
      break;
    case room_event::kind::message: {
      const frame bytes(event.frame);
      if (!event.to) {
        room_fanout::broadcast_message(room, local, bytes);
        break;
      }
      const auto recipient = names_.find(std::string(*event.to));
      room_fanout::direct_message(room, recipient == names_.end() ? nullptr : recipient->second,
                                  bytes);
      if (*event.to == user)
        if (client_state* sender = completes(operation::message))
          seen(*sender);
      break;
    }
  }
  run_ready();
}

// --- time, loss and leaving -----------------------------------------------------------

void node_core::tick() {
  if (phase_ != phase::serving)
    return;
  const clock::time_point now = now_();
  for (const auto& [key, client] : clients_) {
    if (client.wait != waiting::nothing && now > client.deadline)
      return give_up(give_up_reason::redis_not_answering);
  }
}

void node_core::lost(std::string_view why) {
  give_up(why);
}

void node_core::give_up(std::string_view why) {
  if (phase_ != phase::serving)
    return;
  phase_ = phase::connecting;
  levels_changed_ = true;
  log_event(log_level::warn, "redis-lost", {{"why", why}, {"node", node_}});
  // Without Redis this node cannot keep the cluster's promises (one holder
  // per name, one order per room): it lets every client go.
  const frame notice_frame = encode_notice(notice::unavailable);
  std::vector<std::function<void()>> batches_done;
  for (auto& [key, client] : clients_) {
    client.owner->deliver(notice_frame);
    client.owner->close_after_flush();
    if (client.done)
      batches_done.push_back(std::move(client.done));
    client.owner->log_chatter(
        chatter_event::disconnect,
        {{"id", client.owner->connection_id()}, {"user", client.name}, {"reason", why}});
  }
  clients_.clear();
  names_.clear();
  subscriptions_.clear();
  requests_.clear();
  ready_.clear();
  emit(node_action::give_up{.why = std::string(why)});
  for (const auto& done : batches_done)
    done();
}

void node_core::forget(client_state& client, std::string_view reason) {
  const std::shared_ptr<participant> self = client.owner;
  const std::string name = client.name;
  std::function<void()> done = std::move(client.done);
  // This node stops delivering to it now; the room's other members, here and
  // elsewhere, hear `disconnected` from the channel, in the room's order.
  if (client.room != nullptr) {
    const std::string room = client.room->name;
    room_fanout::remove(*client.room, client);
    drop_interest(room);
  } else if (client.current == operation::create || client.current == operation::join) {
    drop_interest(client.target_room);
  }
  if (!name.empty()) {
    names_.erase(name);
    // Parked: the name waits for a resume elsewhere; the cluster's reaping
    // announces it when the lease runs out.
    if (!parked_)
      emit(node_action::send{.arguments = {"EVAL", scripts::drop_name, "0", node_, name}});
  }
  clients_.erase(self.get());
  levels_changed_ = true;
  self->log_chatter(chatter_event::disconnect,
                    {{"id", self->connection_id()}, {"user", name}, {"reason", reason}});
  if (done)
    done();
}

void node_core::fail(participant& client, protocol_error error) {
  client_state* state = find(&client);
  if (state == nullptr || state->closing)
    return;
  const std::shared_ptr<participant> self = state->owner;
  // As on a single node: the client leaves first, then hears why.
  forget(*state, wire_text(error));
  reject(*self, error);
  self->close_after_flush();
}

void node_core::registration_deadline(participant& client) {
  client_state* state = find(&client);
  if (state == nullptr || !state->name.empty() || state->closing)
    return;
  fail(client, protocol_error::username_timeout);
}

void node_core::disconnect(participant& client, disconnect_reason reason) {
  if (client_state* state = find(&client))
    forget(*state, log_text(reason));
}

void node_core::shutdown() {
  if (phase_ == phase::shutting_down)
    return;
  const bool was_serving = phase_ == phase::serving;
  phase_ = phase::shutting_down;
  levels_changed_ = true;
  const frame notice_frame = encode_notice(notice::shutting_down);
  for (auto& [key, client] : clients_) {
    client.closing = true;
    client.owner->deliver(notice_frame);
    client.owner->close_after_flush();
  }
  // Without a resume window, leave the cluster now rather than when the
  // lease runs out: the others hear `disconnected` for this node's clients
  // at once. With one, the driver makes the lease run out when the window
  // ends, and the names stay held till then.
  parked_ = was_serving && timing_.resume_window.count() > 0;
  if (was_serving && !parked_)
    emit(node_action::send{.arguments = {"EVAL", scripts::reap_nodes, "0", node_}});
}

bool node_core::parks_names() const {
  return parked_;
}

}  // namespace cturn
