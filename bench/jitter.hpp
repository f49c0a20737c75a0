#pragma once

#include <cstdint>

namespace cturn::bench {

// How much of one core this process really gets: a spin loop reads the clock
// and records every gap, i.e. every time the core was taken away (other
// processes, interrupts, a hypervisor). Latency cannot be measured below it.
struct jitter_result {
  int cpu = -1;  // the core the probe ran on at the end
  double duration_s = 0;
  std::uint64_t max_gap_ns = 0;
  std::uint64_t gaps_over_100us = 0;
  std::uint64_t gaps_over_1ms = 0;
  double lost_fraction = 0;  // share of the time spent in gaps over 10 us
};

jitter_result measure_jitter(double seconds);

}  // namespace cturn::bench
