#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cturn::bench {

// Log-linear latency histogram in nanoseconds: exact below 128 ns, then 64
// buckets per power of two (at most 1.6 % too high). Fixed size, so recording
// never allocates.
class latency_histogram {
 public:
  void record(std::uint64_t ns) {
    ++counts_[index(ns)];
    ++total_;
    if (ns > max_)
      max_ = ns;
  }

  void clear() {
    counts_.fill(0);
    total_ = 0;
    max_ = 0;
  }

  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }

  // The smallest recorded bucket's upper bound that covers `fraction` of the
  // samples (capped at the maximum seen); 0 when empty.
  std::uint64_t percentile(double fraction) const;

 private:
  static constexpr unsigned exact_below = 128;
  static constexpr unsigned per_octave = 64;
  static constexpr std::size_t bucket_count = exact_below + (64 - 7) * per_octave;

  static std::size_t index(std::uint64_t ns);
  static std::uint64_t upper_bound(std::size_t index);

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace cturn::bench
