#include "memory_limit.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>

namespace cturn {
namespace {

std::optional<std::size_t> read_cgroup_limit(const char* path) {
  std::ifstream file(path);
  std::string text;
  if (!file || !std::getline(file, text))
    return std::nullopt;
  return parse_cgroup_limit(text);
}

}  // namespace

std::optional<std::size_t> parse_cgroup_limit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  std::size_t bytes = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return std::nullopt;  // "max", or nothing we understand: no limit
  return bytes;
}

std::size_t usable_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  std::size_t usable = pages > 0 && page_size > 0
                           ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size)
                           : 0;
  // A v1 controller with no limit reports a huge number, which min() ignores.
  for (const char* path :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    if (const auto limit = read_cgroup_limit(path); limit && *limit > 0)
      usable = usable == 0 ? *limit : std::min(usable, *limit);
  }
  return usable;
}

std::size_t default_output_budget() {
  return usable_memory_bytes() / 4;
}

}  // namespace cturn
