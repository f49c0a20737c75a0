#include "protocol/decode_general.hpp"

#include <array>
#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "hub/resume_token.hpp"
#include "protocol/decode.hpp"
#include "protocol/json_text.hpp"
#include "protocol/names.hpp"

namespace cturn {
namespace {

namespace json = boost::json;

using decoded = tl::expected<command, protocol_error>;

// Row 5: `content` present, a string, not empty.
const json::string* content_of(const json::object& body) {
  const json::value* content = body.if_contains("content");
  if (content == nullptr || !content->is_string() || content->get_string().empty())
    return nullptr;
  return &content->get_string();
}

set_username decode_username(const json::object& body, const json::string& content) {
  set_username result{
      .name = std::string(content), .public_key = std::nullopt, .resume = std::nullopt};
  if (const json::value* key = body.if_contains("pubkey")) {
    const json::string* pem = key->if_string();
    if (pem == nullptr || pem->size() > max_public_key_bytes) {
      result.public_key_valid = false;
    } else if (!pem->empty()) {
      result.public_key = std::string(*pem);
    }
  }
  if (const json::value* token = body.if_contains("resume")) {
    const json::string* text = token->if_string();
    if (text != nullptr && looks_like_resume_token(*text))
      result.resume = std::string(*text);
  }
  return result;
}

decoded decode_message(std::string_view line, const json::object& body) {
  send_message result;
  if (const json::value* to = body.if_contains("to")) {
    if (!to->is_string())
      return tl::unexpected(protocol_error::invalid_content);
    result.to = std::string(to->get_string());
  }
  // The parser accepted the line, so the body's text is there to be found.
  result.body = member_text(line, "body").value_or("{}");
  return result;
}

}  // namespace

decoded decode_general(std::string_view line) {
  // Small frames parse without touching the heap.
  std::array<unsigned char, 4096> arena;
  json::monotonic_resource resource(arena.data(), arena.size());
  json::parse_options options;
  options.max_depth = max_json_depth;
  json::error_code ec;
  json::value root = json::parse(line, ec, &resource, options);
  if (ec == json::error::exponent_overflow)
    root = json::parse(with_short_exponents(line), ec, &resource, options);
  if (ec)
    return tl::unexpected(protocol_error::invalid_json);

  const json::object* envelope = root.if_object();
  if (envelope == nullptr)
    return tl::unexpected(protocol_error::invalid_format);
  const json::value* type_value = envelope->if_contains("type");
  const json::value* body_value = envelope->if_contains("body");
  if (type_value == nullptr || !type_value->is_string() || body_value == nullptr ||
      !body_value->is_object())
    return tl::unexpected(protocol_error::invalid_format);

  const std::string_view type = type_value->get_string();
  const json::object& body = body_value->get_object();
  if (type == "leave")
    return leave_room{};
  if (type != "username" && type != "create" && type != "join" && type != "message")
    return tl::unexpected(protocol_error::invalid_type);

  const json::string* content = content_of(body);
  if (content == nullptr)
    return tl::unexpected(protocol_error::invalid_content);
  if (type == "username")
    return decode_username(body, *content);
  if (type == "create")
    return create_room{std::string(*content)};
  if (type == "join")
    return join_room{std::string(*content)};
  return decode_message(line, body);
}

}  // namespace cturn
