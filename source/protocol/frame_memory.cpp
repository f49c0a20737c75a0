#include "protocol/frame_memory.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>

namespace cturn::frame_memory {
namespace {

// One thread's running totals. Only that thread writes them, so a plain
// load and store suffice, as in metrics::counter: no locked instruction on
// the path that makes or frees a frame.
struct alignas(64) thread_totals {
  std::atomic<std::uint64_t> allocated{0};
  std::atomic<std::uint64_t> freed{0};
};

struct totals_registry {
  std::mutex mutex;
  std::deque<thread_totals> blocks;  // stable addresses; never shrinks
};

// Never destroyed: threads may still free frames while static objects are
// destroyed at exit.
totals_registry& registry() {
  static totals_registry* const all = new totals_registry;
  return *all;
}

thread_totals& mine() {
  thread_local thread_totals* const block = [] {
    totals_registry& all = registry();
    const std::lock_guard lock(all.mutex);
    return &all.blocks.emplace_back();
  }();
  return *block;
}

void bump(std::atomic<std::uint64_t>& total, std::size_t bytes) noexcept {
  total.store(total.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
}

}  // namespace

void note_allocated(std::size_t bytes) noexcept {
  bump(mine().allocated, bytes);
}

void note_freed(std::size_t bytes) noexcept {
  bump(mine().freed, bytes);
}

std::size_t alive() noexcept {
  std::uint64_t allocated = 0;
  std::uint64_t freed = 0;
  totals_registry& all = registry();
  const std::lock_guard lock(all.mutex);
  // Frees first: a frame made and freed between the two sums then shows as
  // alive for one reading rather than as a negative total.
  for (const thread_totals& block : all.blocks)
    freed += block.freed.load(std::memory_order_relaxed);
  for (const thread_totals& block : all.blocks)
    allocated += block.allocated.load(std::memory_order_relaxed);
  return allocated > freed ? static_cast<std::size_t>(allocated - freed) : 0;
}

}  // namespace cturn::frame_memory
