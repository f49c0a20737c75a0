#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace cturn {

// The memory this process may use: the machine's physical memory, or the
// container's limit (cgroup v2 memory.max, else v1 memory.limit_in_bytes)
// when that is lower. 0 when neither can be read.
std::size_t usable_memory_bytes();

// A cgroup limit file's content: a byte count, or "max" for none.
std::optional<std::size_t> parse_cgroup_limit(std::string_view text);

// The default of --max-buffered-bytes: a quarter of the usable memory, so
// that queued output cannot take the memory the rest of the process (and
// the machine) needs; 0 (no budget) when the memory is unknown.
std::size_t default_output_budget();

}  // namespace cturn
