#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cluster/redis_reply.hpp"
#include "config.hpp"

namespace cturn {

struct redis_address {
  std::string host;
  std::uint16_t port = 0;

  std::string text() const;
};

// A Sentinel's answer to `SENTINEL get-master-addr-by-name`: [host, port],
// or nil when it knows no master by that name.
std::optional<redis_address> master_from_sentinel(const redis_reply& answer);

// Whether a `ROLE` reply says "master". A replica accepts subscriptions and
// reads, and, with `replica-read-only no`, even writes that its master will
// erase: a node must never serve on one.
bool is_master_role(const redis_reply& role);

// The first word of a ROLE reply, for the log ("slave", "sentinel", ...).
std::string role_name(const redis_reply& role);

// Where the cluster's Redis master is: the address given with --redis, or
// the one the Sentinels of --redis-sentinels name for --redis-master. Asked
// anew each time the node (re)joins: after a failover the master is
// elsewhere.
class redis_endpoint {
 public:
  using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  redis_endpoint(strand on, const server_config& config, std::chrono::milliseconds timeout);

  // The master's address; nothing if no Sentinel named one. Each Sentinel
  // gets `timeout` to connect and its reply deadline to answer, in turn,
  // starting with the one that answered last.
  boost::asio::awaitable<std::optional<redis_address>> find();

  // For the log: the Redis address or the Sentinels' list.
  std::string describe() const;

 private:
  strand strand_;
  std::optional<redis_address> direct_;
  std::vector<redis_address> sentinels_;
  std::string master_name_;
  std::string password_;
  std::chrono::milliseconds timeout_;
  std::size_t next_ = 0;  // the Sentinel to ask first
};

}  // namespace cturn
