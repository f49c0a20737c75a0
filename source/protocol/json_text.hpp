#pragma once

#include <optional>
#include <string_view>

namespace cturn {

// The raw text of `key`'s value inside a JSON object, exactly as written.
// Relaying a message body this way keeps it byte-identical (numbers, escapes
// and spacing untouched) and saves re-serialising it. The input must already
// have been accepted by a JSON parser; with duplicate keys the last one wins,
// as it does in Boost.JSON and in JavaScript's JSON.parse.
std::optional<std::string_view> member_text(std::string_view object, std::string_view key);

}  // namespace cturn
