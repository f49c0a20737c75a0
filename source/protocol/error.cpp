#include "protocol/error.hpp"

namespace cturn {

std::string_view wire_text(protocol_error error) noexcept {
  switch (error) {
    case protocol_error::message_too_long:
      return "Message too long";
    case protocol_error::invalid_json:
      return "Invalid JSON format";
    case protocol_error::invalid_format:
      return "Invalid message format";
    case protocol_error::invalid_type:
      return "Invalid message type";
    case protocol_error::invalid_content:
      return "Invalid message content";
    case protocol_error::username_required:
      return "You must set a username first";
    case protocol_error::username_already_set:
      return "Username already set";
    case protocol_error::username_empty:
      return "Username cannot be empty";
    case protocol_error::username_invalid:
      return "Invalid username";
    case protocol_error::username_taken:
      return "Username already taken";
    case protocol_error::public_key_invalid:
      return "Invalid public key";
    case protocol_error::leave_room_first:
      return "Leave current room first";
    case protocol_error::room_name_invalid:
      return "Invalid room name";
    case protocol_error::room_exists:
      return "Room already exists";
    case protocol_error::room_missing:
      return "Room does not exist";
    case protocol_error::not_in_room:
      return "Not in any room";
    case protocol_error::join_room_first:
      return "You must join a room first";
    case protocol_error::username_timeout:
      return "Username not set in time";
    case protocol_error::server_full:
      return "Server full";
    case protocol_error::too_many_from_source:
      return "Too many connections from your address";
    case protocol_error::tls_required:
      return "TLS required";
  }
  return "Unknown error";
}

}  // namespace cturn
