#include "protocol/encode.hpp"

#include <algorithm>
#include <cstddef>

namespace cturn {
namespace {

void append_escaped_control(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
  out.append(escaped, sizeof escaped);
}

// Frames are assembled here, then copied into their shared allocation: the
// scratch space is reused, so a frame costs one allocation, not two.
std::string& scratch() {
  thread_local std::string text;
  constexpr std::size_t kept = 64 * 1024;
  if (text.capacity() > kept)
    std::string().swap(text);
  text.clear();
  return text;
}

// `{"type":<type>,"sender":<sender>,"body":<body_json>}`, body_json verbatim.
frame encode_from_sender(std::string_view type, std::string_view sender,
                         std::string_view body_json) {
  std::string& text = scratch();
  text.reserve(32 + type.size() + sender.size() + body_json.size());
  text.append(R"({"type":)");
  append_json_string(text, type);
  text.append(R"(,"sender":)");
  append_json_string(text, sender);
  text.append(R"(,"body":)");
  const std::size_t body_start = text.size();
  text.append(body_json);
  // A raw '\r' in valid JSON can only be white space between tokens. Relayed
  // as is it would split the frame for clients whose line readers also break
  // on '\r'; a space means the same JSON and keeps the body's length.
  std::replace(text.begin() + static_cast<std::ptrdiff_t>(body_start), text.end(), '\r', ' ');
  text.append("}\n");
  return frame(text);
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

frame encode_frame(std::string_view type, std::string_view content) {
  std::string& text = scratch();
  text.reserve(32 + type.size() + content.size());
  text.append(R"({"type":)");
  append_json_string(text, type);
  text.append(R"(,"body":{"content":)");
  append_json_string(text, content);
  text.append("}}\n");
  return frame(text);
}

frame encode_welcome(std::string_view content) {
  return encode_frame("welcome", content);
}

frame encode_system(std::string_view content) {
  return encode_frame("system", content);
}

frame encode_error(protocol_error error) {
  return encode_frame("error", wire_text(error));
}

frame encode_message(std::string_view sender, std::string_view body_json) {
  return encode_from_sender("message", sender, body_json);
}

frame encode_public_key(std::string_view sender, std::string_view pem) {
  std::string body = R"({"content":)";
  append_json_string(body, pem);
  body.push_back('}');
  return encode_from_sender("pubkey", sender, body);
}

}  // namespace cturn
