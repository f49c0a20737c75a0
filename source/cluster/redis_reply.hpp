#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cturn {

// One Redis reply, owned: hiredis's reader builds its own objects, which are
// copied into this and freed at once.
struct redis_reply {
  enum class kind { string, array, integer, nil, status, error };

  kind type = kind::nil;
  std::string text;  // string, status and error
  long long integer = 0;
  std::vector<redis_reply> elements;

  bool is_error() const { return type == kind::error; }
  bool is_nil() const { return type == kind::nil; }
  // An error that says this server is not (or no longer) a master fit to
  // write to: a replica (READONLY, also from inside a script), one still
  // loading its data (LOADING), a replica whose master is gone
  // (MASTERDOWN), a master cut off from its replicas under
  // `min-replicas-to-write` (NOREPLICAS). Each is a loss of Redis, as a
  // broken connection is: the node stops serving and finds the master anew.
  bool means_master_lost() const {
    if (!is_error())
      return false;
    for (const std::string_view code : {"READONLY", "LOADING", "MASTERDOWN", "NOREPLICAS"}) {
      if (text.starts_with(code) && (text.size() == code.size() || text[code.size()] == ' '))
        return true;
    }
    return false;
  }
  static redis_reply error(std::string message) {
    redis_reply reply;
    reply.type = kind::error;
    reply.text = std::move(message);
    return reply;
  }
};

}  // namespace cturn
