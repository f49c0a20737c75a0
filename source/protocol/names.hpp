#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "protocol/error.hpp"

namespace cturn {

inline constexpr std::size_t max_username_bytes = 32;
inline constexpr std::size_t max_room_name_bytes = 64;
inline constexpr std::size_t max_public_key_bytes = 16 * 1024;

// Strips surrounding ASCII white space: space, \t, \n, \v, \f, \r.
std::string_view trim_ascii_space(std::string_view text) noexcept;

// True for U+0000–U+001F and U+007F–U+009F in UTF-8 text.
bool has_control_character(std::string_view utf8) noexcept;

// True for the ASCII characters of the chat client's own labels, `(`, `)`,
// `[`, `]` and `:`: a username holding one could pass for a label or a line
// (`alice (private)`, `[System] bob`, `bob: hi`).
bool has_label_character(std::string_view name) noexcept;

// The trimmed username, or username_empty / username_invalid: too long, a
// control or label character, or not by the name profile
// (follows_name_profile).
tl::expected<std::string, protocol_error> normalize_username(std::string_view content);

// The trimmed room name, or room_name_invalid: empty, too long, a control
// character, or not by the name profile (follows_name_profile).
tl::expected<std::string, protocol_error> normalize_room_name(std::string_view content);

}  // namespace cturn
