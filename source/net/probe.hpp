#pragma once

#include "config.hpp"

namespace cturn {

// Health probe for containers: connects to the configured address and port
// (a wildcard bind address is probed on loopback), sets a throw-away username
// and waits for the welcome. Returns the process exit code: 0 if it answered.
int probe_server(const server_config& config);

}  // namespace cturn
