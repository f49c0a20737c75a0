#include "cluster/cluster_hub.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <random>
#include <utility>

#include "cluster/scripts.hpp"
#include "log.hpp"
#include "protocol/encode.hpp"
#include "protocol/names.hpp"
#include "text/confusable_skeleton.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view unavailable_notice = "Server unavailable";

bool ok(const redis_reply& reply) {
  return !reply.is_error();
}

std::string random_node_id() {
  std::random_device entropy;
  const std::uint64_t value = (std::uint64_t{entropy()} << 32) ^ entropy();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

cluster_hub::cluster_hub(asio::io_context& io, const server_config& config, cluster_timing timing)
    : strand_(asio::make_strand(io)),
      config_(config),
      timing_(timing),
      commands_(strand_),
      events_(strand_),
      leases_(strand_) {
  commands_.on_lost([this] { lost("connection lost"); });
  events_.on_lost([this] { lost("connection lost"); });
  leases_.on_lost([this] { lost("connection lost"); });
  events_.on_push([this](redis_reply&& message) {
    const std::string& channel = message.elements[1].text;
    if (!channel.starts_with(scripts::channel_prefix))
      return;
    const std::string& payload = message.elements[2].text;
    on_room_event(channel.substr(scripts::channel_prefix.size()), payload);
    // Only entries and exits change the gauges; messages are the bulk.
    if (!payload.starts_with("M\n"))
      update_levels();
  });
}

cluster_hub::~cluster_hub() {
  *alive_ = false;
}

void cluster_hub::start() {
  asio::co_spawn(strand_, run(), [](const std::exception_ptr& failure) {
    if (failure)
      log_event(log_level::error, "cluster-stopped", {{"what", exception_text(failure)}});
  });
}

// --- connection to Redis -------------------------------------------------------

asio::awaitable<void> cluster_hub::run() {
  const std::shared_ptr<bool> alive = alive_;
  auto backoff = timing_.retry_first;
  bool reported = false;
  while (*alive && phase_ != phase::shutting_down) {
    if (co_await join_cluster()) {
      backoff = timing_.retry_first;
      reported = false;
      co_await keep_lease();
      continue;
    }
    if (!*alive || phase_ == phase::shutting_down)
      co_return;
    commands_.close();
    events_.close();
    leases_.close();
    if (!std::exchange(reported, true))
      log_event(log_level::warn, "redis-unreachable",
                {{"redis", config_.redis_host + ":" + std::to_string(config_.redis_port)}});
    asio::steady_timer pause(strand_, backoff);
    co_await pause.async_wait(use_tuple);
    backoff = std::min(backoff * 2, timing_.retry_most);
  }
}

asio::awaitable<bool> cluster_hub::join_cluster() {
  const std::shared_ptr<bool> alive = alive_;
  const auto connect = [&](redis_connection& connection) {
    return connection.connect(config_.redis_host, config_.redis_port, config_.redis_password,
                              timing_.connect_timeout);
  };
  if (!co_await connect(commands_) || !*alive || !co_await connect(events_) || !*alive ||
      !co_await connect(leases_) || !*alive)
    co_return false;
  // Random rather than counted in Redis: a Redis that restarted empty would
  // count again from 1 while a node that has not noticed yet still holds 1.
  const std::string node = random_node_id();
  std::vector<std::string> set_lease{"SET", "cturn:lease:" + node, "1", "PX",
                                     std::to_string(timing_.lease_ttl.count())};
  const redis_reply lease = co_await commands_.call(std::move(set_lease));
  std::vector<std::string> list_node{"SADD", "cturn:nodes", node};
  const redis_reply listed = co_await commands_.call(std::move(list_node));
  if (!*alive || !ok(lease) || !ok(listed))
    co_return false;
  // Start afresh: whatever this process held as an earlier node is given up
  // now rather than when that node's lease runs out.
  if (!previous_node_.empty()) {
    std::vector<std::string> retire{"EVAL", scripts::reap_nodes, "0", previous_node_};
    const redis_reply retired = co_await commands_.call(std::move(retire));
    if (!*alive || !ok(retired))
      co_return false;
  }
  if (phase_ == phase::shutting_down)
    co_return false;
  node_ = node;
  previous_node_ = node;
  last_renewal_ = std::chrono::steady_clock::now();
  phase_ = phase::serving;
  update_levels();
  log_event(log_level::info, "cluster-ready", {{"node", node_}});
  co_return true;
}

asio::awaitable<void> cluster_hub::keep_lease() {
  const std::shared_ptr<bool> alive = alive_;
  const std::string ttl = std::to_string(timing_.lease_ttl.count());
  asio::steady_timer tick(strand_);
  while (*alive && phase_ == phase::serving) {
    const std::string node = node_;
    leases_.send({"SET", "cturn:lease:" + node, "1", "XX", "PX", ttl},
                 [this, alive, node](const redis_reply& reply) {
                   if (!*alive || phase_ != phase::serving || node != node_)
                     return;
                   if (reply.is_nil())
                     return lost("lease expired");
                   if (ok(reply))
                     last_renewal_ = std::chrono::steady_clock::now();
                 });
    // Any node may reap a dead one; the script makes it happen once.
    leases_.send({"EVAL", scripts::reap_nodes, "0"});
    tick.expires_after(timing_.tick);
    co_await tick.async_wait(use_tuple);
    if (!*alive || phase_ != phase::serving)
      co_return;
    if (std::chrono::steady_clock::now() - last_renewal_ > timing_.give_up_after)
      lost("redis not answering");
  }
}

void cluster_hub::lost(std::string_view why) {
  if (phase_ != phase::serving)
    return;
  phase_ = phase::connecting;
  log_event(log_level::warn, "redis-lost", {{"why", why}, {"node", node_}});
  // Without Redis this node cannot keep the cluster's promises (one holder
  // per name, one order per room): it lets every client go.
  const frame notice = encode_system(unavailable_notice);
  for (auto& [key, client] : clients_) {
    client.self->deliver(notice);
    client.self->close_after_flush();
    if (client.event_wait)
      client.event_wait->cancel();
    log_event(log_level::info, "disconnect",
              {{"id", client.self->connection_id()}, {"user", client.name}, {"reason", why}});
  }
  for (auto& [name, room] : rooms_) {
    for (const timer_ptr& waiting : room.waiting_for_subscription)
      waiting->cancel();
  }
  clients_.clear();
  names_.clear();
  rooms_.clear();
  update_levels();
  commands_.close();
  events_.close();
  leases_.close();
}

void cluster_hub::update_levels() {
  users_.store(names_.size(), std::memory_order_relaxed);
  std::size_t occupied = 0;
  for (const auto& [name, room] : rooms_)
    occupied += room.members.empty() ? 0 : 1;
  rooms_with_members_.store(occupied, std::memory_order_relaxed);
  serving_.store(phase_ == phase::serving, std::memory_order_relaxed);
}

// --- sessions ---------------------------------------------------------------------

void cluster_hub::connect(std::shared_ptr<participant> client) {
  asio::post(strand_, [this, client = std::move(client)] {
    if (phase_ == phase::serving) {
      clients_[client.get()].self = client;
      return;
    }
    const bool closing = phase_ == phase::shutting_down;
    metrics::local()
        .rejected[static_cast<std::size_t>(closing ? metrics::rejection::shutting_down
                                                   : metrics::rejection::redis_unavailable)]
        .add();
    log_event(log_level::info, "turned-away",
              {{"id", client->connection_id()},
               {"reason", closing ? "shutting down" : "redis unavailable"}});
    client->deliver(encode_system(closing ? "Server shutting down" : unavailable_notice));
    client->close_after_flush();
  });
}

void cluster_hub::submit(std::shared_ptr<participant> client, batch& lines,
                         std::chrono::steady_clock::time_point arrived,
                         std::function<void()> done) {
  asio::co_spawn(strand_, run_batch(std::move(client), &lines, arrived, std::move(done)),
                 [](const std::exception_ptr& failure) {
                   if (failure)
                     log_event(log_level::error, "hub-error", {{"what", exception_text(failure)}});
                 });
}

asio::awaitable<void> cluster_hub::run_batch(std::shared_ptr<participant> client, batch* lines,
                                             std::chrono::steady_clock::time_point arrived,
                                             std::function<void()> done) {
  // done() runs whatever happens, or the session would wait for ever.
  struct on_exit {
    std::function<void()>& call;
    ~on_exit() { call(); }
  } finally{done};
  for (auto& line : *lines) {
    client_state* state = find(client.get());
    if (state == nullptr || state->closing)
      co_return;
    if (!line) {
      reject(*client, line.error());
      continue;
    }
    co_await handle(client, *line, arrived);
  }
}

void cluster_hub::reject(participant& client, protocol_error error) {
  metrics::count_error(error);
  client.deliver(encode_error(error));
}

asio::awaitable<void> cluster_hub::handle(const std::shared_ptr<participant>& client,
                                          command& request,
                                          std::chrono::steady_clock::time_point arrived) {
  client_state* state = find(client.get());
  if (state->name.empty() && !std::holds_alternative<set_username>(request)) {
    reject(*client, protocol_error::username_required);
    co_return;
  }
  if (auto* typed = std::get_if<set_username>(&request)) {
    co_await register_name(client, *typed);
  } else if (auto* create = std::get_if<create_room>(&request)) {
    co_await enter_room(client, create->name, 'C');
  } else if (auto* join = std::get_if<join_room>(&request)) {
    co_await enter_room(client, join->name, 'J');
  } else if (std::holds_alternative<leave_room>(request)) {
    co_await leave_current_room(client);
  } else {
    publish_message(*state, std::get<cturn::send_message>(request));
    metrics::observe_handoff(std::chrono::steady_clock::now() - arrived);
    if (state->awaiting == 'M')
      co_await await_own_event(client);
  }
}

asio::awaitable<redis_reply> cluster_hub::run_script(const std::string& script,
                                                     std::vector<std::string> arguments) {
  const std::string eval[] = {"EVAL", script, "0"};
  arguments.insert(arguments.begin(), std::begin(eval), std::end(eval));
  const std::shared_ptr<bool> alive = alive_;
  redis_reply reply = co_await commands_.call(std::move(arguments));
  // An error while the connection is still up is Redis's own answer; a lost
  // connection has already been reported through on_lost.
  if (*alive && reply.is_error() && commands_.connected()) {
    const bool lease_gone = reply.text.find(scripts::lease_lost) != std::string::npos;
    if (!lease_gone)
      log_event(log_level::error, "redis-error", {{"what", reply.text}});
    lost(lease_gone ? "lease expired" : "script failed");
  }
  co_return reply;
}

asio::awaitable<void> cluster_hub::register_name(std::shared_ptr<participant> client,
                                                 set_username& request) {
  client_state* state = find(client.get());
  if (!state->name.empty()) {
    reject(*client, protocol_error::username_already_set);
    co_return;
  }
  auto name = normalize_username(request.name);
  if (!name) {
    reject(*client, name.error());
    co_return;
  }
  std::string skeleton = confusable_skeleton(*name);
  if (!request.public_key_valid) {
    // The single node's order of checks: a taken name outranks a bad key.
    std::vector<std::string> exists{"EXISTS", "cturn:skeleton:" + skeleton};
    const redis_reply taken = co_await commands_.call(std::move(exists));
    if (find(client.get()) == nullptr || taken.is_error())
      co_return;
    reject(*client, taken.integer == 1 ? protocol_error::username_taken
                                       : protocol_error::public_key_invalid);
    co_return;
  }
  std::string key_frame;
  if (request.public_key)
    key_frame = std::string(encode_public_key(*name, *request.public_key).text());
  std::vector<std::string> claim{node_, *name, std::move(key_frame), std::move(skeleton)};
  const redis_reply claimed = co_await run_script(scripts::claim_name, std::move(claim));
  state = find(client.get());
  if (state == nullptr || claimed.is_error())
    co_return;
  if (claimed.integer != 1) {
    reject(*client, protocol_error::username_taken);
    co_return;
  }
  state->name = std::move(*name);
  names_[state->name] = state;
  update_levels();
  log_event(log_level::info, "username", {{"id", client->connection_id()}, {"user", state->name}});
  client->deliver(encode_welcome("Username set to: " + state->name));
  client->registered();
}

asio::awaitable<void> cluster_hub::enter_room(std::shared_ptr<participant> client,
                                              std::string room_name, char kind) {
  client_state* state = find(client.get());
  if (!state->room.empty()) {
    reject(*client, protocol_error::leave_room_first);
    co_return;
  }
  auto room = normalize_room_name(room_name);
  if (!room) {
    reject(*client, room.error());
    co_return;
  }
  // Subscribed before the script runs: the node must not miss the room's
  // events from this client's entry on.
  add_interest(*room);
  state->awaiting = kind;
  state->awaiting_room = *room;
  state->event_seen = false;
  const bool subscribed = co_await subscribe(*room);
  state = find(client.get());
  if (state == nullptr)
    co_return;  // forget() has dropped its interest
  if (!subscribed) {
    state->awaiting = 0;
    drop_interest(*room);
    co_return;  // Redis is gone, and with it every client
  }
  // `join` wants the exact name; only `create` looks at the skeleton.
  std::vector<std::string> enter{node_, state->name, *room, confusable_skeleton(*room)};
  const redis_reply entered = co_await run_script(
      kind == 'C' ? scripts::create_room : scripts::join_room, std::move(enter));
  state = find(client.get());
  if (state == nullptr || entered.is_error())
    co_return;
  if (entered.integer != 1) {
    state->awaiting = 0;
    drop_interest(*room);
    reject(*client, kind == 'C' ? protocol_error::room_exists : protocol_error::room_missing);
    co_return;
  }
  co_await await_own_event(client);
}

asio::awaitable<void> cluster_hub::leave_current_room(std::shared_ptr<participant> client) {
  client_state* state = find(client.get());
  if (state->room.empty()) {
    reject(*client, protocol_error::not_in_room);
    co_return;
  }
  state->awaiting = 'L';
  state->awaiting_room = state->room;
  state->event_seen = false;
  std::vector<std::string> leave{node_, state->name};
  const redis_reply left = co_await run_script(scripts::leave_room, std::move(leave));
  state = find(client.get());
  if (state == nullptr || left.is_error())
    co_return;
  if (left.integer != 1) {
    // Redis and this node disagree; Redis is the truth.
    log_event(log_level::warn, "cluster-mismatch", {{"user", state->name}, {"room", state->room}});
    state->awaiting = 0;
    reject(*client, protocol_error::not_in_room);
    co_return;
  }
  co_await await_own_event(client);
}

void cluster_hub::publish_message(client_state& client, cturn::send_message& request) {
  if (client.room.empty()) {
    reject(*client.self, protocol_error::join_room_first);
    return;
  }
  const frame bytes = encode_message(client.name, request.body);
  // Even a node's own members get the message from the channel: one order
  // per room for everyone.
  commands_.send({"PUBLISH", scripts::channel_of(client.room),
                  encode_message_event(client.name, bytes, request.to)});
  if (request.to && *request.to == client.name) {
    // To oneself: later answers to this client must not overtake it.
    client.awaiting = 'M';
    client.awaiting_room = client.room;
    client.event_seen = false;
  }
}

asio::awaitable<bool> cluster_hub::await_own_event(const std::shared_ptr<participant>& client) {
  client_state* state = find(client.get());
  if (state == nullptr)
    co_return false;
  if (!state->event_seen) {
    state->event_wait =
        std::make_shared<asio::steady_timer>(strand_, asio::steady_timer::time_point::max());
    const timer_ptr wait = state->event_wait;
    co_await wait->async_wait(use_tuple);
    state = find(client.get());
    if (state == nullptr)
      co_return false;
  }
  state->event_wait.reset();
  state->awaiting = 0;
  co_return true;
}

void cluster_hub::signal_own_event(client_state& client) {
  client.event_seen = true;
  if (client.event_wait)
    client.event_wait->cancel();
}

// --- rooms and their channels ----------------------------------------------------

void cluster_hub::add_interest(const std::string& room) {
  local_room& local = rooms_[room];
  if (local.epoch == 0)
    local.epoch = next_epoch_++;
  ++local.interest;
}

void cluster_hub::drop_interest(const std::string& room) {
  const auto found = rooms_.find(room);
  if (found == rooms_.end() || --found->second.interest > 0)
    return;
  for (const timer_ptr& waiting : found->second.waiting_for_subscription)
    waiting->cancel();
  rooms_.erase(found);
  events_.send({"UNSUBSCRIBE", scripts::channel_of(room)});
}

asio::awaitable<bool> cluster_hub::subscribe(const std::string& room) {
  auto found = rooms_.find(room);
  if (found == rooms_.end())
    co_return false;
  if (found->second.subscribed)
    co_return true;
  const std::uint64_t epoch = found->second.epoch;
  const bool first = found->second.waiting_for_subscription.empty();
  auto wait = std::make_shared<asio::steady_timer>(strand_, asio::steady_timer::time_point::max());
  found->second.waiting_for_subscription.push_back(wait);
  if (first) {
    events_.send({"SUBSCRIBE", scripts::channel_of(room)},
                 [this, alive = alive_, room, epoch](const redis_reply& reply) {
                   if (!*alive)
                     return;
                   const auto subscribed = rooms_.find(room);
                   // A reply for an earlier subscription of a room since
                   // dropped and entered again is not this one's.
                   if (subscribed == rooms_.end() || subscribed->second.epoch != epoch)
                     return;
                   subscribed->second.subscribed = !reply.is_error();
                   for (const timer_ptr& waiting : subscribed->second.waiting_for_subscription)
                     waiting->cancel();
                   subscribed->second.waiting_for_subscription.clear();
                 });
  }
  co_await wait->async_wait(use_tuple);
  found = rooms_.find(room);
  co_return found != rooms_.end() && found->second.epoch == epoch && found->second.subscribed;
}

void cluster_hub::deliver_to(const local_room& room, const frame& bytes,
                             const client_state* except) {
  for (const client_state* member : room.members) {
    if (member != except)
      member->self->deliver(bytes);
  }
}

void cluster_hub::on_room_event(const std::string& room_name, std::string_view payload) {
  const auto found = rooms_.find(room_name);
  if (found == rooms_.end() || !found->second.subscribed)
    return;
  local_room& room = found->second;
  const auto event = parse_room_event(payload);
  if (!event) {
    log_event(log_level::warn, "cluster-bad-event", {{"room", room_name}});
    return;
  }
  const std::string user(event->user);
  const auto named = names_.find(user);
  client_state* local = named == names_.end() ? nullptr : named->second;
  const auto awaited = [&](char kind) {
    return local != nullptr && local->awaiting == kind && local->awaiting_room == room_name;
  };

  switch (event->type) {
    case room_event::kind::created:
      if (awaited('C')) {
        room.members.push_back(local);
        local->room = room_name;
        log_event(log_level::info, "room-created", {{"room", room_name}, {"user", user}});
        local->self->deliver(encode_welcome("Created and joined room: " + room_name));
        signal_own_event(*local);
      }
      deliver_to(room, encode_system(user + " created the room"));
      return;
    case room_event::kind::joined: {
      deliver_to(room, encode_system(user + " joined the room"));
      if (!event->frame.empty())
        deliver_to(room, frame(event->frame));
      if (awaited('J')) {
        local->self->deliver(encode_welcome("Joined room: " + room_name));
        for (const std::string_view key : event->key_frames)
          local->self->deliver(frame(key));
        room.members.push_back(local);
        local->room = room_name;
        signal_own_event(*local);
      }
      return;
    }
    case room_event::kind::left:
    case room_event::kind::disconnected: {
      const bool member =
          local != nullptr && std::erase(room.members, local) > 0 && local->room == room_name;
      deliver_to(room,
                 encode_system(user + (event->type == room_event::kind::left ? " left the room"
                                                                             : " disconnected")));
      if (member) {
        local->room.clear();
        if (awaited('L')) {
          local->self->deliver(encode_welcome("Left room: " + room_name));
          signal_own_event(*local);
        }
        drop_interest(room_name);  // may erase `room`
      }
      return;
    }
    case room_event::kind::message: {
      const frame bytes(event->frame);
      if (event->to) {
        const auto recipient = names_.find(std::string(*event->to));
        if (recipient != names_.end() && recipient->second->room == room_name &&
            std::find(room.members.begin(), room.members.end(), recipient->second) !=
                room.members.end())
          recipient->second->self->deliver(bytes);
        if (awaited('M') && *event->to == user)
          signal_own_event(*local);
        return;
      }
      for (const client_state* member : room.members) {
        if (member->name != user)
          member->self->deliver(bytes);
      }
      return;
    }
  }
}

// --- leaving --------------------------------------------------------------------

cluster_hub::client_state* cluster_hub::find(const participant* client) {
  const auto found = clients_.find(client);
  return found == clients_.end() ? nullptr : &found->second;
}

void cluster_hub::forget(client_state& client, std::string_view reason) {
  const std::shared_ptr<participant> self = client.self;
  const std::string name = client.name;
  // This node stops delivering to it now; the room's other members, here and
  // elsewhere, hear `disconnected` from the channel, in the room's order.
  if (!client.room.empty()) {
    const auto room = rooms_.find(client.room);
    if (room != rooms_.end())
      std::erase(room->second.members, &client);
    drop_interest(client.room);
  } else if (client.awaiting == 'C' || client.awaiting == 'J') {
    drop_interest(client.awaiting_room);
  }
  if (client.event_wait)
    client.event_wait->cancel();
  if (!name.empty()) {
    names_.erase(name);
    commands_.send({"EVAL", scripts::drop_name, "0", node_, name});
  }
  clients_.erase(self.get());
  update_levels();
  log_event(log_level::info, "disconnect",
            {{"id", self->connection_id()}, {"user", name}, {"reason", reason}});
}

void cluster_hub::fail(std::shared_ptr<participant> client, protocol_error error) {
  asio::post(strand_, [this, client = std::move(client), error] {
    client_state* state = find(client.get());
    if (state == nullptr || state->closing)
      return;
    reject(*client, error);
    client->close_after_flush();
    forget(*state, wire_text(error));
  });
}

void cluster_hub::registration_deadline(std::shared_ptr<participant> client) {
  asio::post(strand_, [this, client = std::move(client)] {
    const client_state* state = find(client.get());
    if (state == nullptr || !state->name.empty() || state->closing)
      return;
    reject(*client, protocol_error::username_timeout);
    client->close_after_flush();
    forget(*find(client.get()), wire_text(protocol_error::username_timeout));
  });
}

void cluster_hub::disconnect(std::shared_ptr<participant> client, std::string reason) {
  asio::post(strand_, [this, client = std::move(client), reason = std::move(reason)] {
    if (client_state* state = find(client.get()))
      forget(*state, reason);
  });
}

void cluster_hub::shutdown() {
  asio::post(strand_, [this] {
    if (phase_ == phase::shutting_down)
      return;
    const bool serving = phase_ == phase::serving;
    phase_ = phase::shutting_down;
    update_levels();
    const frame notice = encode_system("Server shutting down");
    for (auto& [key, client] : clients_) {
      client.closing = true;
      client.self->deliver(notice);
      client.self->close_after_flush();
    }
    // Leave the cluster now rather than when the lease runs out: the others
    // hear `disconnected` for this node's clients at once.
    if (serving)
      commands_.send({"EVAL", scripts::reap_nodes, "0", node_});
  });
}

}  // namespace cturn
