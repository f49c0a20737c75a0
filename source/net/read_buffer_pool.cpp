#include "net/read_buffer_pool.hpp"

#include <array>
#include <cstddef>
#include <utility>

namespace cturn::read_buffer_pool {
namespace {

// Enough for the connections one thread wakes at once in a busy moment;
// at most 32 × 64 KiB per thread.
constexpr std::size_t pool_size = 32;
// The session's largest read; a buffer that grew for one long line is not kept.
constexpr std::size_t largest_kept = 64 * 1024;

struct pool {
  std::array<line_framer::storage, pool_size> spares;
  std::size_t count = 0;
};

pool& this_thread() noexcept {
  thread_local pool spares;
  return spares;
}

}  // namespace

line_framer::storage take() noexcept {
  pool& spares = this_thread();
  if (spares.count == 0)
    return {};
  return std::move(spares.spares[--spares.count]);
}

void give(line_framer::storage spare) noexcept {
  pool& spares = this_thread();
  if (spare.capacity == 0 || spare.capacity > largest_kept || spares.count == pool_size)
    return;  // freed here
  spares.spares[spares.count++] = std::move(spare);
}

}  // namespace cturn::read_buffer_pool
