#pragma once

#include <cstdint>

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

 protected:
  ~participant() = default;
};

}  // namespace cturn
