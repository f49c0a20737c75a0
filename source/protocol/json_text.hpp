#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cturn {

// The raw text of `key`'s value inside a JSON object, exactly as written.
// Relaying a message body this way keeps it byte-identical (numbers, escapes
// and spacing untouched) and saves re-serialising it. The input must already
// have been accepted by a JSON parser; with duplicate keys the last one wins,
// as it does in Boost.JSON and in JavaScript's JSON.parse.
std::optional<std::string_view> member_text(std::string_view object, std::string_view key);

// `text` with every number exponent longer than four digits cut to "9999".
// Boost.JSON rejects exponents past the range of int although the JSON
// grammar allows them; the copy serves only to validate such a line.
std::string with_short_exponents(std::string_view text);

}  // namespace cturn
