#include "cluster/publish_batch.hpp"

#include <iterator>
#include <utility>

namespace cturn {

void publish_batch::add(std::string_view sender, std::string_view room, std::string_view payload,
                        const std::optional<std::string>& to) {
  arguments_.emplace_back(sender);
  arguments_.emplace_back(room);
  arguments_.emplace_back(payload);
  arguments_.emplace_back(to ? std::string_view(*to) : std::string_view());
  ++messages_;
  bytes_ += sender.size() + room.size() + payload.size() + (to ? to->size() : 0);
}

std::vector<std::string> publish_batch::take_call(std::string_view sha, std::string_view node) {
  std::vector<std::string> call;
  call.reserve(4 + arguments_.size());
  call.emplace_back("EVALSHA");
  call.emplace_back(sha);
  call.emplace_back("0");
  call.emplace_back(node);
  call.insert(call.end(), std::make_move_iterator(arguments_.begin()),
              std::make_move_iterator(arguments_.end()));
  arguments_.clear();
  messages_ = 0;
  bytes_ = 0;
  return call;
}

}  // namespace cturn
