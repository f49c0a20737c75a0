#include "protocol/names.hpp"

#include "text/ascii.hpp"
#include "text/name_profile.hpp"

namespace cturn {

std::string_view trim_ascii_space(std::string_view text) noexcept {
  while (!text.empty() && is_ascii_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_ascii_space(text.back()))
    text.remove_suffix(1);
  return text;
}

bool has_control_character(std::string_view utf8) noexcept {
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x20 || byte == 0x7F)
      return true;
    // C1 controls U+0080–U+009F are encoded as C2 80 .. C2 9F.
    if (byte == 0xC2 && i + 1 < utf8.size()) {
      const auto next = static_cast<unsigned char>(utf8[i + 1]);
      if (next >= 0x80 && next <= 0x9F)
        return true;
    }
  }
  return false;
}

bool has_label_character(std::string_view name) noexcept {
  return name.find_first_of("()[]:") != std::string_view::npos;
}

tl::expected<std::string, protocol_error> normalize_username(std::string_view content) {
  const std::string_view name = trim_ascii_space(content);
  if (name.empty())
    return tl::unexpected(protocol_error::username_empty);
  if (name.size() > max_username_bytes || has_control_character(name) ||
      has_label_character(name) || !follows_name_profile(name))
    return tl::unexpected(protocol_error::username_invalid);
  return std::string(name);
}

tl::expected<std::string, protocol_error> normalize_room_name(std::string_view content) {
  const std::string_view name = trim_ascii_space(content);
  if (name.empty() || name.size() > max_room_name_bytes || has_control_character(name) ||
      !follows_name_profile(name))
    return tl::unexpected(protocol_error::room_name_invalid);
  return std::string(name);
}

}  // namespace cturn
