#pragma once

#include <cstring>
#include <memory>
#include <string_view>

#include "protocol/frame_memory.hpp"

namespace cturn {

// One encoded server frame, newline included. Immutable and shared: a
// broadcast is encoded once and every recipient's queue holds the same bytes.
// The bytes live in the same allocation as the reference count, so a frame
// costs one allocation however many recipients it has; frame_memory counts it.
class frame {
 public:
  explicit frame(std::string_view text)
      : bytes_(std::allocate_shared_for_overwrite<char[]>(frame_memory::counting_allocator<char>{},
                                                          text.size())),
        size_(text.size()) {
    if (!text.empty())  // memcpy from a null pointer is undefined even for 0 bytes
      std::memcpy(bytes_.get(), text.data(), text.size());
  }

  std::string_view text() const { return {bytes_.get(), size_}; }
  std::size_t size() const { return size_; }

  // True when both hold the very same bytes (not merely equal ones).
  bool shares_bytes_with(const frame& other) const { return bytes_ == other.bytes_; }

 private:
  std::shared_ptr<char[]> bytes_;
  std::size_t size_;
};

}  // namespace cturn
