#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "cluster/node_core.hpp"
#include "cluster/redis_connection.hpp"

namespace cturn {

// Timings of the cluster; docs/cluster.md explains the bounds they give.
struct cluster_timing {
  // A node's lease lives this long unless renewed.
  std::chrono::milliseconds lease_ttl{2'000};
  // How often a node renews its lease and looks for dead nodes to reap.
  std::chrono::milliseconds tick{250};
  // A node that has not renewed its lease for this long stops serving: it
  // must close its clients before the lease can expire and others take over.
  std::chrono::milliseconds give_up_after{1'000};
  std::chrono::milliseconds connect_timeout{1'000};
  std::chrono::milliseconds retry_first{200};
  std::chrono::milliseconds retry_most{2'000};
};

// A serving node's lease in Redis, and the reaping of nodes whose lease is
// gone, on a connection of their own: behind a burst of PUBLISHes on the
// commands link, a renewal's reply could come too late and make a busy but
// healthy node give up. Each round also ticks the core (its deadlines).
class node_lease {
 public:
  using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  // `perform` carries out what the core asks for after a round or a loss.
  node_lease(strand on, cluster_timing timing, node_core& core, std::function<void()> perform);
  ~node_lease();
  node_lease(const node_lease&) = delete;
  node_lease& operator=(const node_lease&) = delete;

  redis_connection& link() { return link_; }

  // Renews the lease of the core's node and reaps dead nodes every tick,
  // until the core stops serving as that node; tells the core when the lease
  // is gone or has not been renewed for give_up_after.
  boost::asio::awaitable<void> keep();

  // The node stops: its lease (and so its names) ends `window` from now,
  // when the other nodes' reaping announces what nobody resumed. Sent on
  // this link, after any renewal already sent, so none can extend it.
  void park(std::chrono::milliseconds window);

 private:
  void reap();

  strand strand_;
  cluster_timing timing_;
  node_core& core_;
  std::function<void()> perform_;
  redis_connection link_;
  std::chrono::steady_clock::time_point last_renewal_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cturn
