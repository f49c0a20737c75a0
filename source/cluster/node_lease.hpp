#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

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
  // A hub strand that has not run the lease's tick for this long is stuck,
  // not busy (a burst of fan-out takes well under a second per turn): the
  // lease is let go, so that a node serving no one does not hold its names.
  std::chrono::milliseconds hub_stuck_after{10'000};
  std::chrono::milliseconds connect_timeout{1'000};
  std::chrono::milliseconds retry_first{200};
  std::chrono::milliseconds retry_most{2'000};
};

// A serving node's lease in Redis, and the reaping of nodes whose lease is
// gone, on a connection AND a strand of their own: behind a burst of
// PUBLISHes on the commands link, or behind seconds of fan-out on the hub's
// strand, a renewal's reply would come too late and make a busy but healthy
// node give up. Each round also ticks the core (its deadlines) on the hub's
// strand; that tick is the hub's heartbeat.
//
// What crosses the two strands, and how:
// - the node id: copied when keep() starts, on the hub strand;
// - the decision to give up: the result of the keeper's coroutine, which
//   keep() receives on the hub strand and hands to the core;
// - the tick: posted to the hub strand, at most one at a time (an atomic
//   flag), and the time it last ran (an atomic), read by the keeper;
// - connect and close of the lease's link: run on the lease's strand.
// The core itself is only ever touched on the hub strand.
class node_lease {
 public:
  using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  // `hub` is the strand of the core; `perform` (run on it) carries out what
  // the core asks for after a tick or a loss.
  node_lease(boost::asio::io_context& io, strand hub, cluster_timing timing, node_core& core,
             std::function<void()> perform);
  ~node_lease();
  node_lease(const node_lease&) = delete;
  node_lease& operator=(const node_lease&) = delete;

  // Connects the lease's link on the lease's strand; awaited from the hub's.
  // `user` as for redis_connection::connect.
  boost::asio::awaitable<bool> connect(const std::string& host, std::uint16_t port,
                                       const std::string& password,
                                       std::chrono::milliseconds timeout, const std::string& user);
  // Closes the link (on the lease's strand) and ends keep().
  void close();

  // From the hub strand: renews the lease of the core's node and reaps dead
  // nodes every tick on the lease's strand, until the link is closed or the
  // lease is lost; then tells the core why (on the hub strand).
  boost::asio::awaitable<void> keep();

  // The node stops: its lease (and so its names) ends `window` from now,
  // when the other nodes' reaping announces what nobody resumed. Sent on
  // this link, after any renewal already sent, so none can extend it.
  void park(std::chrono::milliseconds window);

 private:
  boost::asio::awaitable<bool> connect_here(std::string host, std::uint16_t port,
                                            std::string password, std::chrono::milliseconds timeout,
                                            std::string user);
  // The keeper, on the lease's strand: returns why the node must give up,
  // or nothing when the hub closed the link.
  boost::asio::awaitable<std::string> keep_on_own_strand(std::string node);
  void tick_hub(const std::string& node);
  void reap();
  // On the lease's strand: ends the keeper with `why` (the first reason wins).
  void end(std::string_view why);

  strand hub_;
  strand own_;
  cluster_timing timing_;
  node_core& core_;
  std::function<void()> perform_;
  redis_connection link_;            // on own_
  boost::asio::steady_timer round_;  // on own_
  std::string ended_because_;        // on own_
  bool parked_ = false;              // on own_: the node stops, its lease runs out by park()
  std::chrono::steady_clock::time_point last_renewal_;  // on own_
  std::atomic<bool> tick_pending_{false};
  std::atomic<std::chrono::steady_clock::time_point> hub_answered_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cturn
