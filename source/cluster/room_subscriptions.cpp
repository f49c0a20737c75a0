#include "cluster/room_subscriptions.hpp"

namespace cturn {

room_subscriptions::room& room_subscriptions::add_interest(const std::string& name) {
  room& state = rooms_[name];
  if (state.epoch == 0) {
    state.epoch = next_epoch_++;
    state.local.name = name;
  }
  ++state.interest;
  return state;
}

bool room_subscriptions::drop_interest(const std::string& name) {
  const auto found = rooms_.find(name);
  if (found == rooms_.end() || --found->second.interest > 0)
    return false;
  rooms_.erase(found);
  return true;
}

room_subscriptions::room* room_subscriptions::find(const std::string& name) {
  const auto found = rooms_.find(name);
  return found == rooms_.end() ? nullptr : &found->second;
}

room_subscriptions::room* room_subscriptions::answered(const std::string& name,
                                                       std::uint64_t epoch) {
  room* state = find(name);
  return state != nullptr && state->epoch == epoch ? state : nullptr;
}

std::size_t room_subscriptions::rooms_with_members() const {
  std::size_t occupied = 0;
  for (const auto& [name, state] : rooms_)
    occupied += state.local.members.empty() ? 0 : 1;
  return occupied;
}

}  // namespace cturn
