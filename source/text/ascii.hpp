#pragma once

namespace cturn {

// The protocol's white space: what usernames and room names are trimmed of,
// and what a blank (ignored) line consists of. Narrower than isspace(), which
// depends on the locale.
constexpr bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace cturn
