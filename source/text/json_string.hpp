#pragma once

#include <string>
#include <string_view>

namespace cturn {

// Appends `text` (valid UTF-8) as a quoted JSON string. The frame encoder and
// the log both use it, so it lives below them.
void append_json_string(std::string& out, std::string_view text);

}  // namespace cturn
