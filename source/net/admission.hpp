#pragma once

#include <cstdint>

#include "net/connection_registry.hpp"
#include "net/source_limiter.hpp"

namespace cturn {

// What the server hands a session it admits: its number and its places in
// the counts the connection caps are checked against, held until it ends.
struct admission {
  std::uint64_t id = 0;
  connection_registry::slot connection;
  source_limiter::slot source;
};

}  // namespace cturn
