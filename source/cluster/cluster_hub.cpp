#include "cluster/cluster_hub.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <random>
#include <utility>

#include "cluster/hub_stall_hook.hpp"
#include "cluster/scripts.hpp"
#include "log.hpp"
#include "net/use_tuple.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;

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
      endpoint_(strand_, config_, timing_.connect_timeout),
      core_([] { return std::chrono::steady_clock::now(); },
            node_timing{.resume_window = config.resume_window}),
      commands_(strand_),
      events_(strand_),
      lease_(io, strand_, timing_, core_, [this] { perform(); }) {
  const auto lost = [this](std::string_view why) {
    core_.lost(why);
    perform();
  };
  commands_.on_lost(lost);
  // A command whose reply nobody waits for may still be refused: a fenced
  // publish, or a drop whose node's lease is gone. The node must hear of it.
  // (A lost connection is reported through on_lost, not here.)
  commands_.on_unhandled_error([this](const redis_reply& reply) {
    core_.on_command_error(reply);
    perform();
  });
  events_.on_lost(lost);
  // A room's channel and this node's own come in on this one connection, in
  // the order Redis ran their publishes: that is what keeps a directed
  // message in its place among the room's events (docs/cluster.md).
  events_.on_push([this](redis_reply&& message) {
    const std::string& channel = message.elements[1].text;
    if (channel.starts_with(scripts::channel_prefix))
      core_.on_room_event(channel.substr(scripts::channel_prefix.size()), message.elements[2].text);
    else if (channel.starts_with(scripts::node_channel_prefix))
      core_.on_node_event(message.elements[2].text);
    else
      return;
    perform();
  });
}

cluster_hub::~cluster_hub() {
  *alive_ = false;
}

void cluster_hub::start() {
  arm_hub_stall_hook(strand_);
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
  while (*alive && !shutting_down_) {
    if (co_await join_cluster()) {
      backoff = timing_.retry_first;
      reported = false;
      co_await lease_.keep();
      continue;
    }
    if (!*alive || shutting_down_)
      co_return;
    close_links();
    if (!std::exchange(reported, true))
      log_event(log_level::warn, "redis-unreachable", {{"redis", endpoint_.describe()}});
    asio::steady_timer pause(strand_, backoff);
    co_await pause.async_wait(use_tuple);
    backoff = std::min(backoff * 2, timing_.retry_most);
  }
}

asio::awaitable<bool> cluster_hub::connect_to_master() {
  const std::shared_ptr<bool> alive = alive_;
  const std::optional<redis_address> master = co_await endpoint_.find();
  if (!*alive || !master)
    co_return false;
  const auto connect = [&](redis_connection& connection) {
    return connection.connect(master->host, master->port, config_.redis_password,
                              timing_.connect_timeout, config_.redis_user);
  };
  if (!co_await connect(commands_) || !*alive || !co_await connect(events_) || !*alive ||
      !co_await lease_.connect(master->host, master->port, config_.redis_password,
                               timing_.connect_timeout, config_.redis_user) ||
      !*alive)
    co_return false;
  // A replica (a demoted master, or one a Sentinel named before it was
  // promoted) must never be served on: it would take subscriptions, and with
  // `replica-read-only no` even claims, that the master never sees. Once
  // serving, writes to a demoted master fail with READONLY, a loss of Redis.
  std::vector<std::string> ask_role{"ROLE"};
  const redis_reply role = co_await commands_.call(std::move(ask_role));
  if (!*alive)
    co_return false;
  if (!is_master_role(role)) {
    log_event(log_level::warn, "redis-not-master",
              {{"redis", master->text()}, {"role", role_name(role)}});
    co_return false;
  }
  log_event(log_level::info, "redis-master", {{"redis", master->text()}});
  co_return true;
}

asio::awaitable<bool> cluster_hub::join_cluster() {
  const std::shared_ptr<bool> alive = alive_;
  if (!co_await connect_to_master() || !*alive)
    co_return false;
  // Random rather than counted in Redis: a Redis that restarted empty would
  // count again from 1 while a node that has not noticed yet still holds 1.
  const std::string node = random_node_id();
  std::vector<std::string> set_lease{"SET", scripts::lease_key(node), "1", "PX",
                                     std::to_string(timing_.lease_ttl.count())};
  const redis_reply lease = co_await commands_.call(std::move(set_lease));
  std::vector<std::string> list_node{"SADD", std::string(scripts::keys::nodes), node};
  const redis_reply listed = co_await commands_.call(std::move(list_node));
  // Messages go through a script by its hash: the script's text is not sent
  // with each one. A Redis that forgets it (a restart, SCRIPT FLUSH) answers
  // NOSCRIPT, which makes the node start afresh and load it again.
  std::vector<std::string> load{"SCRIPT", "LOAD", scripts::publish_message};
  const redis_reply loaded = co_await commands_.call(std::move(load));
  // Subscribed before the node holds a single name: no directed message to
  // one of its clients can be published before it listens.
  std::vector<std::string> listen{"SUBSCRIBE", scripts::node_channel_of(node)};
  const redis_reply listening = co_await events_.call(std::move(listen));
  if (!*alive || !ok(lease) || !ok(listed) || !ok(loaded) || !ok(listening))
    co_return false;
  publish_sha_ = loaded.text;
  // Start afresh: whatever this process held as an earlier node is given up
  // now rather than when that node's lease runs out.
  if (!previous_node_.empty()) {
    std::vector<std::string> retire{"EVAL", scripts::reap_nodes, "0", previous_node_};
    const redis_reply retired = co_await commands_.call(std::move(retire));
    if (!*alive || !ok(retired))
      co_return false;
  }
  if (shutting_down_)
    co_return false;
  previous_node_ = node;
  core_.start_serving(node);
  update_levels();
  log_event(log_level::info, "cluster-ready", {{"node", node}});
  co_return true;
}

void cluster_hub::close_links() {
  commands_.close();
  events_.close();
  lease_.close();
}

void cluster_hub::retire_then_close() {
  // A node that gave up while its commands link still works (its lease link
  // stalled, a script failed) leaves the cluster at once: its names are free
  // now, not when its lease runs out or it joins again. Its clients are
  // gone already, so nothing it held is still in use. The link closes once
  // Redis has answered (or failed to, within the link's reply deadline); a
  // join that starts sooner closes it first.
  if (!commands_.connected() || core_.node().empty())
    return commands_.close();
  commands_.send({"EVAL", scripts::reap_nodes, "0", core_.node()},
                 [this, alive = alive_](const redis_reply&) {
                   if (*alive)
                     commands_.close();
                 });
}

void cluster_hub::update_levels() {
  users_.store(core_.user_count(), std::memory_order_relaxed);
  rooms_with_members_.store(core_.rooms_with_members(), std::memory_order_relaxed);
  serving_.store(core_.serving(), std::memory_order_relaxed);
}

// --- the core's actions -------------------------------------------------------------

void cluster_hub::perform() {
  for (node_action_t& action : core_.take_actions()) {
    if (auto* publish = std::get_if<node_action::publish>(&action)) {
      queue_publish(*publish);
      continue;
    }
    // Whatever comes after a message on the commands link comes after it
    // in Redis too: the batch goes first.
    flush_publishes();
    if (auto* call = std::get_if<node_action::call>(&action)) {
      const std::vector<std::string_view> arguments(call->arguments.begin(), call->arguments.end());
      commands_.send(arguments,
                     [this, alive = alive_, request = call->request](const redis_reply& reply) {
                       if (!*alive)
                         return;
                       core_.on_reply(request, reply);
                       perform();
                     });
    } else if (auto* send = std::get_if<node_action::send>(&action)) {
      const std::vector<std::string_view> arguments(send->arguments.begin(), send->arguments.end());
      commands_.send(arguments);
    } else if (auto* subscribe = std::get_if<node_action::subscribe>(&action)) {
      const std::string channel = scripts::channel_of(subscribe->room);
      events_.send({"SUBSCRIBE", channel}, [this, alive = alive_, room = std::move(subscribe->room),
                                            epoch = subscribe->epoch](const redis_reply& reply) {
        if (!*alive)
          return;
        core_.on_subscribed(room, epoch, !reply.is_error());
        perform();
      });
    } else if (auto* unsubscribe = std::get_if<node_action::unsubscribe>(&action)) {
      events_.send({"UNSUBSCRIBE", scripts::channel_of(unsubscribe->room)});
    } else {
      // The core has let every client go; the lease loop ends and the node
      // joins afresh.
      events_.close();
      lease_.close();
      retire_then_close();
    }
  }
  // Messages, the bulk, change no gauge; entries, exits and names do.
  if (core_.take_levels_changed())
    update_levels();
}

// Messages of one turn of the strand go to Redis in one script call: the
// flush is posted behind whatever the strand already has queued (other
// clients' lines, events), so under load a batch gathers many of them.
void cluster_hub::queue_publish(const node_action::publish& publish) {
  publishes_.add(publish.sender, publish.room, publish.payload, publish.to);
  if (publishes_.full())
    return flush_publishes();
  if (publish_flush_posted_)
    return;
  publish_flush_posted_ = true;
  asio::post(strand_, [this, alive = alive_] {
    if (!*alive)
      return;
    publish_flush_posted_ = false;
    flush_publishes();
  });
}

void cluster_hub::flush_publishes() {
  if (publishes_.empty())
    return;
  const std::vector<std::string> call = publishes_.take_call(publish_sha_, core_.node());
  commands_.send(std::vector<std::string_view>(call.begin(), call.end()));
}

// Runs on the strand: the core is single-threaded.
template <typename Input>
void cluster_hub::post(Input input) {
  asio::post(strand_, [this, input = std::move(input)]() mutable {
    input(core_);
    perform();
  });
}

// --- sessions ---------------------------------------------------------------------

void cluster_hub::connect(std::shared_ptr<participant> client) {
  post([client = std::move(client)](node_core& core) mutable { core.connect(std::move(client)); });
}

void cluster_hub::submit(std::shared_ptr<participant> client, batch& lines,
                         std::chrono::steady_clock::time_point arrived,
                         std::function<void()> done) {
  // The batch is the session's; it waits for done() before touching it.
  post([client = std::move(client), &lines, arrived, done = std::move(done)](
           node_core& core) mutable { core.submit(client, lines, arrived, std::move(done)); });
}

void cluster_hub::fail(std::shared_ptr<participant> client, protocol_error error) {
  post([client = std::move(client), error](node_core& core) { core.fail(*client, error); });
}

void cluster_hub::registration_deadline(std::shared_ptr<participant> client) {
  post([client = std::move(client)](node_core& core) { core.registration_deadline(*client); });
}

void cluster_hub::disconnect(std::shared_ptr<participant> client, disconnect_reason reason) {
  post([client = std::move(client), reason](node_core& core) { core.disconnect(*client, reason); });
}

void cluster_hub::shutdown() {
  post([this](node_core& core) {
    shutting_down_ = true;
    core.shutdown();
    if (core.parks_names()) {
      log_event(log_level::info, "names-parked",
                {{"node", core.node()},
                 {"seconds", static_cast<std::uint64_t>(config_.resume_window.count())}});
      lease_.park(config_.resume_window);
    }
  });
}

}  // namespace cturn
