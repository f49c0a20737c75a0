#pragma once

#include <cstddef>
#include <memory>

namespace cturn::frame_memory {

// Bytes of frame storage allocated and not yet freed, over every thread. A
// frame shared by many queues counts once: this is the memory the frames
// waiting for slow readers really hold, which the server-wide output budget
// (--max-buffered-bytes) bounds.
std::size_t alive() noexcept;

// Kept per thread, as the metrics are: a frame is made on one thread and
// often freed on another, so only the sum over every thread means anything.
void note_allocated(std::size_t bytes) noexcept;
void note_freed(std::size_t bytes) noexcept;

// The allocator frames take their storage (and its reference count) from.
template <class T>
struct counting_allocator {
  using value_type = T;

  counting_allocator() = default;
  template <class U>
  explicit counting_allocator(const counting_allocator<U>& /*other*/) noexcept {}

  T* allocate(std::size_t count) {
    T* storage = std::allocator<T>{}.allocate(count);
    note_allocated(count * sizeof(T));
    return storage;
  }
  void deallocate(T* storage, std::size_t count) noexcept {
    note_freed(count * sizeof(T));
    std::allocator<T>{}.deallocate(storage, count);
  }

  friend bool operator==(const counting_allocator&, const counting_allocator&) { return true; }
};

}  // namespace cturn::frame_memory
