#include "cluster/node_lease.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>
#include <utility>

#include "cluster/scripts.hpp"
#include "log.hpp"
#include "net/use_tuple.hpp"

namespace cturn {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

}  // namespace

node_lease::node_lease(asio::io_context& io, strand hub, cluster_timing timing, node_core& core,
                       std::function<void()> perform)
    : hub_(std::move(hub)),
      own_(asio::make_strand(io)),
      timing_(timing),
      core_(core),
      perform_(std::move(perform)),
      link_(own_),
      round_(own_) {
  // Runs on own_, as every callback of the link does.
  link_.on_lost([this](std::string_view why) { end(why); });
}

node_lease::~node_lease() {
  *alive_ = false;
}

asio::awaitable<bool> node_lease::connect(const std::string& host, std::uint16_t port,
                                          const std::string& password,
                                          std::chrono::milliseconds timeout,
                                          const std::string& user) {
  co_return co_await asio::co_spawn(own_, connect_here(host, port, password, timeout, user),
                                    asio::use_awaitable);
}

asio::awaitable<bool> node_lease::connect_here(std::string host, std::uint16_t port,
                                               std::string password,
                                               std::chrono::milliseconds timeout,
                                               std::string user) {
  ended_because_.clear();
  co_return co_await link_.connect(host, port, password, timeout, user);
}

void node_lease::close() {
  asio::post(own_, [this, alive = alive_] {
    if (!*alive)
      return;
    link_.close();
    round_.cancel();
  });
}

void node_lease::end(std::string_view why) {
  if (ended_because_.empty())
    ended_because_ = why;
  link_.close();
  round_.cancel();
}

asio::awaitable<void> node_lease::keep() {
  const std::shared_ptr<bool> alive = alive_;
  const std::string node = core_.node();
  tick_pending_.store(false);
  hub_answered_.store(clock::now());
  const std::string why =
      co_await asio::co_spawn(own_, keep_on_own_strand(node), asio::use_awaitable);
  // Back on the hub strand: the only place the core hears of it.
  if (*alive && !why.empty() && core_.serving() && core_.node() == node) {
    core_.lost(why);
    perform_();
  }
}

void node_lease::park(std::chrono::milliseconds window) {
  // On the lease's strand, where renewals are sent: none is sent after this,
  // and one already sent is ahead of it on the link, so none can extend the
  // window.
  asio::post(own_, [this, alive = alive_, node = core_.node(), window] {
    if (!*alive)
      return;
    parked_ = true;
    link_.send({"PEXPIRE", scripts::lease_key(node), std::to_string(window.count())});
  });
}

asio::awaitable<std::string> node_lease::keep_on_own_strand(std::string node) {
  const std::shared_ptr<bool> alive = alive_;
  const std::string ttl = std::to_string(timing_.lease_ttl.count());
  last_renewal_ = clock::now();
  while (link_.connected() && !parked_) {
    link_.send({"SET", scripts::lease_key(node), "1", "XX", "PX", ttl},
               [this, alive](const redis_reply& reply) {
                 if (!*alive)
                   return;
                 if (reply.is_nil())
                   return end(give_up_reason::lease_expired);
                 if (!reply.is_error())
                   last_renewal_ = clock::now();
               });
    reap();
    round_.expires_after(timing_.tick);
    co_await round_.async_wait(use_tuple);
    if (!*alive || parked_)
      co_return std::string();
    if (!link_.connected())
      break;
    const clock::time_point now = clock::now();
    // Judged here, on a strand that fan-out does not use: only Redis's
    // silence counts, not the hub's backlog.
    if (now - last_renewal_ > timing_.give_up_after)
      co_return std::string(give_up_reason::redis_not_answering);
    if (now - hub_answered_.load() > timing_.hub_stuck_after) {
      // The hub has not run a tick for many seconds: it serves no one, so it
      // must not keep its names. Its id is retired now (its room-mates hear
      // `disconnected`); the core hears it when (if) its strand runs again,
      // and anything it sends meanwhile is refused by the fence.
      log_event(log_level::error, "hub-stuck", {{"node", node}});
      link_.send({"EVAL", scripts::reap_nodes, "0", node});
      co_return std::string(give_up_reason::hub_strand_stuck);
    }
    tick_hub(node);
  }
  co_return std::exchange(ended_because_, {});
}

// The core's tick, on the hub strand; its running is the hub's heartbeat.
// One at a time: a busy hub gets one tick when it catches up, not a pile.
void node_lease::tick_hub(const std::string& node) {
  if (tick_pending_.exchange(true))
    return;
  asio::post(hub_, [this, alive = alive_, node] {
    if (!*alive)
      return;
    hub_answered_.store(clock::now());
    tick_pending_.store(false);
    if (!core_.serving() || core_.node() != node)
      return;
    core_.tick();
    perform_();
  });
}

// Any node may reap a dead one; the script makes it happen once, in runs of
// bounded length, again at once while names are left.
void node_lease::reap() {
  link_.send({"EVAL", scripts::reap_nodes, "0"}, [this, alive = alive_](const redis_reply& reply) {
    if (*alive && link_.connected() && !reply.is_error() && reply.integer > 0)
      reap();
  });
}

}  // namespace cturn
