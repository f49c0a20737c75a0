#pragma once

#include <string_view>

namespace cturn {

// Every error the server can answer with. The wire text for each lives in
// error.cpp, in one table, so the protocol's wording is defined exactly once.
enum class protocol_error {
  message_too_long = 1,
  invalid_json,
  invalid_format,
  invalid_type,
  invalid_content,
  username_required,
  username_already_set,
  username_empty,
  username_invalid,
  username_taken,
  public_key_invalid,
  leave_room_first,
  room_name_invalid,
  room_exists,
  room_missing,
  not_in_room,
  join_room_first,
  username_timeout,
  server_full,
  too_many_from_source,
  // An extension of the contract: --tls-required turns plain connections away.
  tls_required,
};

// The exact `content` of the error frame for `error`.
std::string_view wire_text(protocol_error error) noexcept;

}  // namespace cturn
