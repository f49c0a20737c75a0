#pragma once

#include "protocol/line_framer.hpp"

namespace cturn {

// Read buffers that idle connections gave back, kept per I/O thread for the
// next connection that has something to read. An idle connection then holds
// no buffer, and a busy one does not allocate one each time its socket
// empties. Bounded: a burst of wake-ups leaves at most a few buffers behind.
namespace read_buffer_pool {

// A spare buffer, or an empty storage (the framer allocates on prepare()).
line_framer::storage take() noexcept;
// Keeps `spare` if the pool has room and it is not oversized; frees it otherwise.
void give(line_framer::storage spare) noexcept;

}  // namespace read_buffer_pool

}  // namespace cturn
