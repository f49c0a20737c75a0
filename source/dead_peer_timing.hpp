#pragma once

#include <chrono>
#include <optional>

namespace cturn {

// How the kernel is told to give up on a peer whose path has vanished (no
// FIN, no RST): TCP keepalive for a silent connection, TCP_USER_TIMEOUT for
// output that is never acknowledged. Neither needs an answer from the client
// program, only from its kernel.
struct dead_peer_timing {
  std::chrono::seconds idle;               // silence before the first keepalive probe
  std::chrono::seconds interval;           // between unanswered probes
  int probes;                              // unanswered probes before the connection is dropped
  std::chrono::milliseconds user_timeout;  // longest wait for sent data to be acknowledged
};

// The bounds of --dead-peer-timeout other than 0. Below 4 s half the bound
// has no room for a whole second of idleness and one probe a second later
// (the kernel counts in whole seconds); a day is far beyond any use.
inline constexpr std::chrono::seconds shortest_dead_peer_timeout{4};
inline constexpr std::chrono::seconds longest_dead_peer_timeout{86'400};

// Timings under which a vanished peer is dropped within `bound`, idle or not.
// Either mechanism gives up after half the bound (in whole seconds):
//  - keepalive: idle for about a quarter, then up to 3 probes over the rest,
//    so idle + probes * interval = bound / 2 after the last segment that came
//    from the peer;
//  - TCP_USER_TIMEOUT: bound / 2 again. Output sent while probes are out
//    stops them (the kernel retransmits instead) and is given up after
//    user_timeout; so the worst case, output sent just before keepalive would
//    have given up, still ends within the bound.
// (Linux also ends a keepalive wait once user_timeout has passed since the
// last segment and a probe is out; equal values keep the two in step.)
// 0 gives no timings: the kernel's defaults stay. `bound` must be 0 or within
// the limits above.
std::optional<dead_peer_timing> dead_peer_timing_within(std::chrono::seconds bound);

}  // namespace cturn
