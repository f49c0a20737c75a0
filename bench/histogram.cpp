#include "histogram.hpp"

#include <bit>
#include <cmath>

namespace cturn::bench {

std::size_t latency_histogram::index(std::uint64_t ns) {
  if (ns < exact_below)
    return static_cast<std::size_t>(ns);
  const auto top_bit = static_cast<unsigned>(63 - std::countl_zero(ns));
  const unsigned shift = top_bit - 6;  // keeps the 7 leading bits: 64..127
  return exact_below + (top_bit - 7) * per_octave + static_cast<std::size_t>((ns >> shift) - 64);
}

std::uint64_t latency_histogram::upper_bound(std::size_t index) {
  if (index < exact_below)
    return index;
  const std::size_t offset = index - exact_below;
  const auto shift = static_cast<unsigned>(offset / per_octave + 1);
  const std::uint64_t lead = offset % per_octave + 64;
  return ((lead + 1) << shift) - 1;
}

std::uint64_t latency_histogram::percentile(double fraction) const {
  if (total_ == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(total_)));
  if (rank == 0)
    rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return std::min(upper_bound(i), max_);
  }
  return max_;
}

}  // namespace cturn::bench
