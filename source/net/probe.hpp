#pragma once

#include "config.hpp"

namespace cturn {

// Health probe for containers. With --metrics set it asks the metrics
// endpoint's GET /healthz and wants 200. Otherwise it connects to the
// configured address and port, sets a throw-away username and wants any
// protocol answer. A wildcard address is probed on loopback. Returns the
// process exit code: 0 if healthy.
int probe_server(const server_config& config);

}  // namespace cturn
