#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace cturn {

// Commands as decoded from one client line. Fields hold what the client sent;
// rules that depend on the connection's state (already registered, already in
// a room, name taken) are applied by the room hub, in the protocol's order.

struct set_username {
  std::string name;  // untrimmed `content`
  std::optional<std::string> public_key;
  bool public_key_valid = true;  // false: present but not a string, or too long
  // `resume`: a token to take the name over with. One that is not a string
  // of a token's form is dropped here, so that it takes exactly the path of
  // a username without one (a wrong token does too).
  std::optional<std::string> resume = std::nullopt;
};

struct create_room {
  std::string name;  // untrimmed `content`
};

struct join_room {
  std::string name;  // untrimmed `content`
};

struct leave_room {};

struct send_message {
  // The `body` object's JSON text, byte for byte as sent: a view into the
  // line the command was decoded from, so it is valid only while that line
  // is. The session hands every command to the hub before it reuses its read
  // buffer; not copying the body saves an allocation per message.
  std::string_view body;
  std::optional<std::string> to;  // directed form
};

using command = std::variant<set_username, create_room, join_room, leave_room, send_message>;

}  // namespace cturn
