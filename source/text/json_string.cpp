#include "text/json_string.hpp"

namespace cturn {
namespace {

void append_escaped_control(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
  out.append(escaped, sizeof escaped);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          append_escaped_control(out, c);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace cturn
