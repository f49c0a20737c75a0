#include "protocol/encode.hpp"

#include <algorithm>
#include <cstddef>

#include "text/json_string.hpp"

namespace cturn {
namespace {

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

frame encode_welcome_with_resume(std::string_view content, std::string_view token) {
  std::string& text = scratch();
  text.reserve(64 + content.size() + token.size());
  text.append(R"({"type":"welcome","body":{"content":)");
  append_json_string(text, content);
  text.append(R"(,"resume":)");
  append_json_string(text, token);
  text.append("}}\n");
  return frame(text);
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
