#include "cluster/node_lease.hpp"

#include <boost/asio/steady_timer.hpp>
#include <string>
#include <utility>

#include "cluster/scripts.hpp"
#include "net/use_tuple.hpp"

namespace cturn {

node_lease::node_lease(strand on, cluster_timing timing, node_core& core,
                       std::function<void()> perform)
    : strand_(std::move(on)),
      timing_(timing),
      core_(core),
      perform_(std::move(perform)),
      link_(strand_) {}

node_lease::~node_lease() {
  *alive_ = false;
}

boost::asio::awaitable<void> node_lease::keep() {
  const std::shared_ptr<bool> alive = alive_;
  const std::string ttl = std::to_string(timing_.lease_ttl.count());
  const std::string node = core_.node();
  const auto serving_as_node = [&] { return *alive && core_.serving() && core_.node() == node; };
  last_renewal_ = std::chrono::steady_clock::now();
  boost::asio::steady_timer tick(strand_);
  while (serving_as_node()) {
    link_.send({"SET", scripts::lease_key(node), "1", "XX", "PX", ttl},
               [this, alive, node](const redis_reply& reply) {
                 if (!*alive || !core_.serving() || node != core_.node())
                   return;
                 if (reply.is_nil()) {
                   core_.lost("lease expired");
                   return perform_();
                 }
                 if (!reply.is_error())
                   last_renewal_ = std::chrono::steady_clock::now();
               });
    reap();
    tick.expires_after(timing_.tick);
    co_await tick.async_wait(use_tuple);
    if (!serving_as_node())
      co_return;
    if (std::chrono::steady_clock::now() - last_renewal_ > timing_.give_up_after)
      core_.lost("redis not answering");
    else
      core_.tick();
    perform_();
  }
}

void node_lease::park(std::chrono::milliseconds window) {
  link_.send({"PEXPIRE", scripts::lease_key(core_.node()), std::to_string(window.count())},
             [](const redis_reply&) {});
}

// Any node may reap a dead one; the script makes it happen once, in runs of
// bounded length, again at once while names are left.
void node_lease::reap() {
  link_.send({"EVAL", scripts::reap_nodes, "0"}, [this, alive = alive_](const redis_reply& reply) {
    if (*alive && core_.serving() && !reply.is_error() && reply.integer > 0)
      reap();
  });
}

}  // namespace cturn
