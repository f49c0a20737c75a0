#include "dead_peer_timing.hpp"

#include <algorithm>

namespace cturn {

std::optional<dead_peer_timing> dead_peer_timing_within(std::chrono::seconds bound) {
  if (bound.count() <= 0)
    return std::nullopt;
  using std::chrono::seconds;
  // Three probes ride out the loss of one or two segments on a path that is
  // merely lossy; fewer when the budget leaves less than a second for each.
  constexpr seconds::rep most_probes = 3;
  const seconds budget = std::max(bound / 2, seconds(2));
  // The probes share the second half of the budget; idleness takes the first
  // half and what whole-second intervals leave over.
  const seconds probing = budget - budget / 2;
  const auto probes = std::min(probing.count(), most_probes);
  const seconds interval = probing / probes;
  const seconds idle = budget - probes * interval;
  return dead_peer_timing{
      .idle = idle,
      .interval = interval,
      .probes = static_cast<int>(probes),
      .user_timeout = budget,
  };
}

}  // namespace cturn
