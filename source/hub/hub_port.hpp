#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "disconnect_reason.hpp"
#include "hub/participant.hpp"
#include "metrics/metrics.hpp"
#include "protocol/command.hpp"
#include "protocol/error.hpp"

namespace cturn {

// What a session asks of the service that decides its frames: the room hub
// of a single node (hub_service) or a node of a cluster (cluster_hub). Every
// call returns at once; the work happens on the service's own strand. The
// session holds itself alive through the shared_ptr it passes.
class hub_port {
 public:
  using batch = std::vector<tl::expected<command, protocol_error>>;

  virtual ~hub_port() = default;

  // A new connection; the service turns it away during shutdown.
  virtual void connect(std::shared_ptr<participant> client) = 0;
  // Handles the decoded lines in order, then calls done() from any thread.
  // The batch (and the bytes its commands view) must stay untouched until then.
  // `arrived`: when the read that brought them completed.
  virtual void submit(std::shared_ptr<participant> client, batch& lines,
                      std::chrono::steady_clock::time_point arrived,
                      std::function<void()> done) = 0;
  // An error that closes the connection; the client leaves at once.
  virtual void fail(std::shared_ptr<participant> client, protocol_error error) = 0;
  virtual void registration_deadline(std::shared_ptr<participant> client) = 0;
  // The connection is gone; `reason` is for the log.
  virtual void disconnect(std::shared_ptr<participant> client, disconnect_reason reason) = 0;
  // Tells every client `Server shutting down` and closes them all.
  virtual void shutdown() = 0;

  // Safe from any thread, for the metrics endpoint: the names and rooms held
  // on this node as of the last change (connections are the server's), and
  // whether the service can serve (a cluster node without Redis cannot).
  virtual metrics::gauges levels() const = 0;
  virtual bool healthy() const = 0;
};

}  // namespace cturn
