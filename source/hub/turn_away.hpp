#pragma once

#include "hub/participant.hpp"
#include "metrics/metrics.hpp"

namespace cturn {

// A connection the hub cannot serve (shutting down, or a cluster node
// without Redis): counted, logged, told why with a system notice, closed.
// Both hubs turn clients away through this one step.
void turn_away(participant& client, metrics::rejection why);

}  // namespace cturn
