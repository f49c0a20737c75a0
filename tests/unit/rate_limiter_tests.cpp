#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>

#include "net/rate_limiter.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = cturn::rate_limiter::clock;

const clock_type::time_point start{};

// Floating-point token counts: allow a microsecond either way.
bool near(clock_type::duration actual, clock_type::duration expected) {
  return std::chrono::abs(actual - expected) <= 1us;
}

long long micros(clock_type::duration value) {
  return std::chrono::duration_cast<std::chrono::microseconds>(value).count();
}

// How many frames a client that always waits as told gets through in `span`.
int frames_within(cturn::rate_limiter& limiter, clock_type::time_point from,
                  clock_type::duration span) {
  int frames = 0;
  for (clock_type::time_point now = from; now < from + span; ++frames)
    now += limiter.take(now);
  return frames;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(burst_is_free) {
  cturn::rate_limiter limiter(10, 5, start);
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(limiter.take(start) == clock_type::duration::zero());
  BOOST_TEST(limiter.take(start) > clock_type::duration::zero());
}

BOOST_AUTO_TEST_CASE(waits_grow_with_the_debt) {
  cturn::rate_limiter limiter(10, 5, start);
  for (int i = 0; i < 5; ++i)
    limiter.take(start);
  const auto first = limiter.take(start);
  const auto second = limiter.take(start);
  const auto third = limiter.take(start);
  BOOST_TEST(near(first, 100ms), micros(first) << "us");
  BOOST_TEST(near(second, 200ms), micros(second) << "us");
  BOOST_TEST(near(third, 300ms), micros(third) << "us");
}

BOOST_AUTO_TEST_CASE(waiting_as_told_pays_the_debt) {
  cturn::rate_limiter limiter(100, 1, start);
  BOOST_TEST(limiter.take(start) == clock_type::duration::zero());
  const auto wait = limiter.take(start);
  BOOST_TEST(near(wait, 10ms), micros(wait) << "us");
  // Half the wait later, half a token has come back: 15 ms still to go.
  const auto later = limiter.take(start + 5ms);
  BOOST_TEST(near(later, 15ms), micros(later) << "us");
}

BOOST_AUTO_TEST_CASE(sustained_rate) {
  cturn::rate_limiter limiter(200, 400, start);
  // The burst, then 200 a second.
  const int frames = frames_within(limiter, start, 10s);
  BOOST_TEST(std::abs(frames - (400 + 200 * 10)) <= 1, frames << " frames");
}

BOOST_AUTO_TEST_CASE(spaced_frames_never_wait) {
  cturn::rate_limiter limiter(10, 1, start);
  for (int i = 0; i < 100; ++i) {
    const auto wait = limiter.take(start + i * 101ms);
    BOOST_TEST(wait == clock_type::duration::zero(), "frame " << i << " waits " << micros(wait));
  }
}

BOOST_AUTO_TEST_CASE(idle_time_refills_at_most_one_burst) {
  cturn::rate_limiter limiter(10, 5, start);
  for (int i = 0; i < 20; ++i)
    limiter.take(start);  // deep in debt
  const auto later = start + 1h;
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(limiter.take(later) == clock_type::duration::zero());
  const auto wait = limiter.take(later);
  BOOST_TEST(near(wait, 100ms), micros(wait) << "us");
}

BOOST_AUTO_TEST_CASE(zero_rate_switches_it_off) {
  for (const double rate : {0.0, -1.0}) {
    cturn::rate_limiter limiter(rate, 1, start);
    int waits = 0;
    for (int i = 0; i < 10'000; ++i)
      waits += limiter.take(start) > clock_type::duration::zero();
    BOOST_TEST(waits == 0, "rate " << rate);
  }
  cturn::rate_limiter no_burst(0, 0, start);
  BOOST_TEST(no_burst.take(start) == clock_type::duration::zero());
}

BOOST_AUTO_TEST_CASE(burst_below_one_counts_as_one) {
  cturn::rate_limiter limiter(10, 0, start);
  BOOST_TEST(limiter.take(start) == clock_type::duration::zero());
  const auto wait = limiter.take(start);
  BOOST_TEST(near(wait, 100ms), micros(wait) << "us");
}

BOOST_AUTO_TEST_CASE(real_clock_start) {
  const auto now = clock_type::now();
  cturn::rate_limiter limiter(200, 400, now);
  BOOST_TEST(frames_within(limiter, now, 1s) <= 601);
}

// As a byte budget: each take pays for a line's size.
BOOST_AUTO_TEST_CASE(amounts_are_bytes) {
  cturn::rate_limiter bytes(1000, 2000, start);  // 1000 B/s, bursts of 2000 B
  BOOST_TEST(bytes.take(start, 1500) == clock_type::duration::zero());
  BOOST_TEST(bytes.take(start, 500) == clock_type::duration::zero());
  const auto wait = bytes.take(start, 250);  // 250 B over: a quarter of a second
  BOOST_TEST(near(wait, 250ms), micros(wait) << "us");
  // A line larger than the burst is allowed, and waits for all it is over.
  cturn::rate_limiter small(1000, 100, start);
  const auto long_wait = small.take(start, 1100);
  BOOST_TEST(near(long_wait, 1000ms), micros(long_wait) << "us");
}

BOOST_AUTO_TEST_SUITE_END()
