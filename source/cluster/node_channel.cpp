#include "cluster/node_channel.hpp"

namespace cturn {

std::optional<node_message> split_node_message(std::string_view payload) {
  const auto end = payload.find('\n');
  if (end == std::string_view::npos || end == 0)
    return std::nullopt;
  return node_message{.room = payload.substr(0, end), .event = payload.substr(end + 1)};
}

}  // namespace cturn
