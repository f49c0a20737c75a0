#include "jitter.hpp"

#include <sched.h>

#include <chrono>

namespace cturn::bench {

jitter_result measure_jitter(double seconds) {
  using clock = std::chrono::steady_clock;
  const auto to_ns = [](clock::duration d) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  };
  const auto start = clock::now();
  const auto end =
      start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  jitter_result result;
  std::uint64_t lost_ns = 0;
  auto previous = start;
  for (auto now = start; now < end; previous = now) {
    now = clock::now();
    const std::uint64_t gap = to_ns(now - previous);
    if (gap > result.max_gap_ns)
      result.max_gap_ns = gap;
    if (gap > 10'000)
      lost_ns += gap;
    if (gap > 100'000)
      ++result.gaps_over_100us;
    if (gap > 1'000'000)
      ++result.gaps_over_1ms;
  }
  const std::uint64_t total_ns = to_ns(clock::now() - start);
  result.duration_s = static_cast<double>(total_ns) / 1e9;
  result.lost_fraction = static_cast<double>(lost_ns) / static_cast<double>(total_ns);
  result.cpu = sched_getcpu();
  return result;
}

}  // namespace cturn::bench
