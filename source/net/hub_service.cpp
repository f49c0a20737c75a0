#include "net/hub_service.hpp"

#include "hub/turn_away.hpp"

namespace cturn {

void hub_service::connect(std::shared_ptr<participant> client) {
  post([client = std::move(client)](room_hub& hub) {
    if (!hub.connect(*client))
      turn_away(*client, metrics::rejection::shutting_down);
  });
}

void hub_service::submit(std::shared_ptr<participant> client, batch& lines,
                         std::chrono::steady_clock::time_point arrived,
                         std::function<void()> done) {
  // The batch is the session's; it waits for done() before touching it.
  post([client = std::move(client), &lines, arrived, done = std::move(done)](room_hub& hub) {
    // done() runs whatever happens, or the session would wait for ever.
    struct on_exit {
      const std::function<void()>& call;
      ~on_exit() { call(); }
    } finally{done};
    std::uint64_t messages = 0;
    for (auto& line : lines) {
      if (line) {
        messages += std::holds_alternative<send_message>(*line) ? 1 : 0;
        hub.handle(*client, std::move(*line));
      } else {
        hub.reject(*client, line.error());
      }
    }
    // One clock read per batch, not per message: each message of the batch
    // is counted with the time the last one was handed off.
    if (messages != 0)
      metrics::observe_handoff(std::chrono::steady_clock::now() - arrived, messages);
  });
}

void hub_service::fail(std::shared_ptr<participant> client, protocol_error error) {
  post([client = std::move(client), error](room_hub& hub) { hub.fail(*client, error); });
}

void hub_service::registration_deadline(std::shared_ptr<participant> client) {
  post([client = std::move(client)](room_hub& hub) { hub.registration_deadline(*client); });
}

void hub_service::disconnect(std::shared_ptr<participant> client, disconnect_reason reason) {
  post([client = std::move(client), reason](room_hub& hub) { hub.disconnect(*client, reason); });
}

void hub_service::shutdown() {
  post([](room_hub& hub) { hub.shutdown(); });
}

}  // namespace cturn
