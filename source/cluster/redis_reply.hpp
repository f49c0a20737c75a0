#pragma once

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
  static redis_reply error(std::string message) {
    redis_reply reply;
    reply.type = kind::error;
    reply.text = std::move(message);
    return reply;
  }
};

}  // namespace cturn
