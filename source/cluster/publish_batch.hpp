#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cturn {

// Fenced messages waiting to go to Redis together, in one call of
// scripts::publish_message. Redis's fixed cost of a script call, most of its
// CPU per directed message (docs/benchmarks.md), is then paid once per batch
// instead of once per message. The driver (cluster_hub) fills a batch during
// one turn of its strand and sends it before any other command, so that the
// commands link still carries everything in the order the core asked for it.
class publish_batch {
 public:
  // One script run stays short (Redis does nothing else meanwhile: about
  // 1 µs per message) and one command stays far below what a link may hold.
  static constexpr std::size_t max_messages = 128;
  static constexpr std::size_t max_bytes = 256 * 1024;

  void add(std::string_view sender, std::string_view room, std::string_view payload,
           const std::optional<std::string>& to);
  bool empty() const noexcept { return messages_ == 0; }
  bool full() const noexcept { return messages_ >= max_messages || bytes_ >= max_bytes; }
  std::size_t size() const noexcept { return messages_; }

  // `EVALSHA sha 0 node`, then `sender room payload recipient` per message
  // (an empty recipient: the whole room). Leaves the batch empty.
  std::vector<std::string> take_call(std::string_view sha, std::string_view node);

 private:
  std::vector<std::string> arguments_;  // four per message
  std::size_t messages_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace cturn
