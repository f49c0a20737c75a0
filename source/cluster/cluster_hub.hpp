#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/node_core.hpp"
#include "cluster/node_lease.hpp"
#include "cluster/publish_batch.hpp"
#include "cluster/redis_connection.hpp"
#include "cluster/redis_endpoint.hpp"
#include "cluster/room_event.hpp"
#include "config.hpp"
#include "hub/hub_port.hpp"

namespace cturn {

// One node of a cluster: names, rooms and their members live in Redis, and
// change only through Lua scripts that publish each room's events on the
// room's channel; the node keeps its own clients and, for each room where it
// has members, who they are, in the order the channel says they entered.
// Every frame a client gets about a room comes from that channel, so every
// member of a room, on every node, sees the room's events in one order.
//
// The decisions are node_core's, which has no I/O; this is its driver: it
// keeps the links to Redis and the lease, hands the core every input on one
// strand and performs the actions the core asks for. Without Redis the node
// serves no one: its clients get `Server unavailable` and are closed, new
// ones are turned away, and it reconnects with backoff, starting afresh as a
// new node.
class cluster_hub final : public hub_port {
 public:
  // The strand is made over the io_context's own executor type: one over a
  // type-erased executor no longer fits the type-erased executor that the
  // Redis sockets hold, and its shared fallback uses fences ThreadSanitizer
  // cannot follow.
  cluster_hub(boost::asio::io_context& io, const server_config& config, cluster_timing timing = {});
  ~cluster_hub() override;
  cluster_hub(const cluster_hub&) = delete;
  cluster_hub& operator=(const cluster_hub&) = delete;

  // Starts connecting; serves once Redis answers.
  void start();

  void connect(std::shared_ptr<participant> client) override;
  void submit(std::shared_ptr<participant> client, batch& lines,
              std::chrono::steady_clock::time_point arrived, std::function<void()> done) override;
  void fail(std::shared_ptr<participant> client, protocol_error error) override;
  void registration_deadline(std::shared_ptr<participant> client) override;
  void disconnect(std::shared_ptr<participant> client, disconnect_reason reason) override;
  void shutdown() override;
  metrics::gauges levels() const override {
    return {.connections = 0,
            .users = users_.load(std::memory_order_relaxed),
            .rooms = rooms_with_members_.load(std::memory_order_relaxed)};
  }
  bool healthy() const override { return serving_.load(std::memory_order_relaxed); }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> join_cluster();
  // Finds the master and connects every link to it; false if it cannot be
  // reached or is not a master (ROLE).
  boost::asio::awaitable<bool> connect_to_master();
  // Runs `input` on the core, on the strand, then performs what it asks for.
  template <typename Input>
  void post(Input input);
  void perform();
  // Messages wait in publishes_ for the end of the strand's turn, or until
  // the batch is full or another command must follow them.
  void queue_publish(const node_action::publish& publish);
  void flush_publishes();
  void close_links();
  // After giving up: retires the node id on the commands link, then closes it.
  void retire_then_close();
  // The gauges the metrics endpoint reads from other threads.
  void update_levels();

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  server_config config_;
  cluster_timing timing_;
  redis_endpoint endpoint_;
  node_core core_;
  redis_connection commands_;
  redis_connection events_;
  node_lease lease_;
  bool shutting_down_ = false;
  std::string previous_node_;
  std::string publish_sha_;  // scripts::publish_message, loaded by join_cluster
  publish_batch publishes_;
  bool publish_flush_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::atomic<bool> serving_{false};
  std::atomic<std::size_t> users_{0};
  std::atomic<std::size_t> rooms_with_members_{0};
};

}  // namespace cturn
