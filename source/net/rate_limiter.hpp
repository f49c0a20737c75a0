#pragma once

#include <algorithm>
#include <chrono>

namespace cturn {

// Token bucket: `rate` units (frames, or bytes) per second sustained, bursts
// of `burst`. take() never refuses; it says how long to wait before reading
// on, which is how the server applies back-pressure instead of dropping
// frames. Taking more than a burst at once is allowed and waits the longer.
class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  // rate <= 0 switches the limiter off.
  rate_limiter(double rate, double burst, clock::time_point now)
      : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

  // False when switched off: the caller can then skip reading the clock.
  bool limits() const { return rate_ > 0; }

  clock::duration take(clock::time_point now, double amount = 1.0) {
    if (rate_ <= 0)
      return clock::duration::zero();
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_) - amount;
    if (tokens_ >= 0)
      return clock::duration::zero();
    return std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(-tokens_ / rate_));
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace cturn
