#pragma once

#include <cstdint>

#include "log.hpp"
#include "protocol/encode.hpp"

namespace cturn {

// A connected client as the room hub sees it. The server's sessions implement
// it; unit tests use a recording fake. The hub calls these from its strand.
class participant {
 public:
  // Queues one frame for this client. Must be cheap and must not call back
  // into the hub.
  virtual void deliver(const frame& bytes) = 0;

  // Closes the connection once every frame delivered so far has been written.
  virtual void close_after_flush() = 0;

  // A number for logs; unique per connection.
  virtual std::uint64_t connection_id() const = 0;

  // The client's username is set: its registration deadline no longer
  // applies (the session stops its timer rather than keep it armed while the
  // connection idles). Must not call back into the hub.
  virtual void registered() noexcept {}

  // A load balancer's health check (a PROXY LOCAL or UNKNOWN connection):
  // the hub logs its username and its disconnect at debug, as the session
  // does its connect; the checks are counted in a metric instead, since a
  // check every two seconds per node would otherwise fill the log.
  virtual bool is_health_check() const noexcept { return false; }

 protected:
  ~participant() = default;
};

// The level of the lines a client's arrival and departure leave in the log.
inline log_level chatter_level(const participant& client) noexcept {
  return client.is_health_check() ? log_level::debug : log_level::info;
}

}  // namespace cturn
