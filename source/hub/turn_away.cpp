#include "hub/turn_away.hpp"

#include "log.hpp"
#include "protocol/notice.hpp"

namespace cturn {

void turn_away(participant& client, metrics::rejection why) {
  const bool shutting_down = why == metrics::rejection::shutting_down;
  metrics::local().rejected[static_cast<std::size_t>(why)].add();
  client.log_chatter(chatter_event::turned_away,
                     {{"id", client.connection_id()},
                      {"reason", shutting_down ? "shutting down" : "redis unavailable"}});
  client.deliver(encode_notice(shutting_down ? notice::shutting_down : notice::unavailable));
  client.close_after_flush();
}

}  // namespace cturn
