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
#include <unordered_map>
#include <vector>

#include "cluster/redis_connection.hpp"
#include "cluster/room_event.hpp"
#include "config.hpp"
#include "hub/hub_port.hpp"
#include "hub/local_room.hpp"

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

// One node of a cluster: names, rooms and their members live in Redis, and
// change only through Lua scripts that publish each room's events on the
// room's channel; the node keeps its own clients and, for each room where it
// has members, who they are, in the order the channel says they entered.
// Every frame a client gets about a room comes from that channel, so every
// member of a room, on every node, sees the room's events in one order.
//
// Everything runs on one strand. Without Redis the node serves no one: its
// clients get `Server unavailable` and are closed, new ones are turned away,
// and it reconnects with backoff, starting afresh as a new node.
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
  enum class phase { connecting, serving, shutting_down };
  using timer_ptr = std::shared_ptr<boost::asio::steady_timer>;

  // A create, join, leave or self-addressed message is done when its own
  // event comes back on the room's channel.
  enum class awaited_event { none, created, joined, left, message };

  struct client_state : local_member {
    std::shared_ptr<participant> owner;  // `self`, kept alive while it is here
    awaited_event awaiting = awaited_event::none;
    std::string awaiting_room;
    bool event_seen = false;
    timer_ptr event_wait;
    bool closing = false;
  };
  struct room_state {
    local_room local;          // this node's members, in order of entry
    std::size_t interest = 0;  // members, and clients on their way in
    bool subscribed = false;
    std::uint64_t epoch = 0;  // tells this room's subscription from an earlier one's
    std::vector<timer_ptr> waiting_for_subscription;
  };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> join_cluster();
  boost::asio::awaitable<void> keep_lease();
  void lost(std::string_view why);

  boost::asio::awaitable<void> run_batch(std::shared_ptr<participant> client, batch* lines,
                                         std::chrono::steady_clock::time_point arrived,
                                         std::function<void()> done);
  boost::asio::awaitable<void> handle(const std::shared_ptr<participant>& client, command& request);
  static void reject(participant& client, protocol_error error);
  // The gauges the metrics endpoint reads from other threads.
  void update_levels();
  boost::asio::awaitable<void> register_name(std::shared_ptr<participant> client,
                                             set_username& request);
  boost::asio::awaitable<void> enter_room(std::shared_ptr<participant> client, std::string room,
                                          awaited_event kind);
  boost::asio::awaitable<void> leave_current_room(std::shared_ptr<participant> client);
  void publish_message(client_state& client, cturn::send_message& request);
  // Waits until the client's own event came back; false if the client is gone.
  boost::asio::awaitable<bool> await_own_event(const std::shared_ptr<participant>& client);
  // Runs a script; an error reply means the node cannot go on (lost()).
  boost::asio::awaitable<redis_reply> run_script(const std::string& script,
                                                 std::vector<std::string> arguments);

  boost::asio::awaitable<bool> subscribe(const std::string& room);
  void add_interest(const std::string& room);
  void drop_interest(const std::string& room);
  void on_room_event(const std::string& room, std::string_view payload);
  void signal_own_event(client_state& client);

  client_state* find(const participant* client);
  void forget(client_state& client, std::string_view reason);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  server_config config_;
  cluster_timing timing_;
  redis_connection commands_;
  redis_connection events_;
  // Lease renewals and reaping on a connection of their own: behind a burst
  // of PUBLISHes on commands_, a renewal's reply could come too late and
  // make a busy but healthy node give up.
  redis_connection leases_;
  phase phase_ = phase::connecting;
  std::string node_;  // this node's id while serving
  std::string previous_node_;
  std::chrono::steady_clock::time_point last_renewal_;
  std::uint64_t next_epoch_ = 1;
  std::unordered_map<const participant*, client_state> clients_;
  std::unordered_map<std::string, client_state*> names_;
  std::unordered_map<std::string, room_state> rooms_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::atomic<bool> serving_{false};
  std::atomic<std::size_t> users_{0};
  std::atomic<std::size_t> rooms_with_members_{0};
};

}  // namespace cturn
