#pragma once

#include <string>
#include <vector>

#include "hub/participant.hpp"

namespace cturn {

struct local_room;

// A client this process serves, as both hubs' rule code sees it.
struct local_member {
  participant* self = nullptr;
  std::string name;            // empty until registered
  local_room* room = nullptr;  // the room it is a member of, if any
};

// The members of one room that this process serves, in the order the room's
// events say they entered: every member on a single node, this node's share
// of them in a cluster.
struct local_room {
  std::string name;
  std::vector<local_member*> members;
};

}  // namespace cturn
