#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/local_room.hpp"
#include "hub/participant.hpp"

namespace cturn {

// The rooms a cluster node listens to, and why: how many of its clients are
// interested in each (members, and clients on their way in), which
// subscription of the room's channel is the current one (its epoch), whether
// Redis has confirmed it, and who waits for that. No I/O: node_core asks for
// the SUBSCRIBE and UNSUBSCRIBE this implies.
class room_subscriptions {
 public:
  struct room {
    local_room local;                         // this node's members, in order of entry
    std::size_t interest = 0;                 // members, and clients on their way in
    bool subscribed = false;                  // confirmed by Redis
    bool subscribing = false;                 // asked for, not confirmed yet
    std::uint64_t epoch = 0;                  // tells this subscription from an earlier one's
    std::vector<const participant*> waiting;  // clients on their way in
  };

  // One interest more in `name`; a room not listened to yet gets a new epoch.
  room& add_interest(const std::string& name);
  // One interest less; true if it was the last: the room is forgotten, and
  // its channel is to be left.
  bool drop_interest(const std::string& name);
  room* find(const std::string& name);
  // The room whose subscription `epoch` Redis has answered, or nullptr: a
  // reply for an earlier subscription of a room since dropped and entered
  // again is not this one's.
  room* answered(const std::string& name, std::uint64_t epoch);
  std::size_t rooms_with_members() const;
  void clear() { rooms_.clear(); }

 private:
  std::unordered_map<std::string, room> rooms_;
  std::uint64_t next_epoch_ = 1;
};

}  // namespace cturn
