#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "log.hpp"
#include "protocol/encode.hpp"

namespace cturn {

// The lines the hubs log about one client's comings and goings.
enum class chatter_event { username, resume, resumed_elsewhere, turned_away, disconnect };

constexpr std::string_view event_name(chatter_event event) noexcept {
  switch (event) {
    case chatter_event::username:
      return "username";
    case chatter_event::resume:
      return "resume";
    case chatter_event::resumed_elsewhere:
      return "resumed-elsewhere";
    case chatter_event::turned_away:
      return "turned-away";
    case chatter_event::disconnect:
      return "disconnect";
  }
  return "?";
}

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

  // Logs a line of the client's comings and goings (the session's own
  // `connect` is one too). The participant picks the level: a session logs a
  // health check's lines at debug and holds them back while it cannot tell
  // yet (its chatter_log), so that a check every two seconds per node
  // does not fill the log. Must not call back into the hub.
  virtual void log_chatter(chatter_event event, std::initializer_list<log_field> fields) noexcept {
    log_event(log_level::info, event_name(event), fields);
  }

 protected:
  ~participant() = default;
};

}  // namespace cturn
