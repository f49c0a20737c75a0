#pragma once

#include <string>
#include <string_view>

#include "protocol/error.hpp"
#include "protocol/frame.hpp"

namespace cturn {

// `{"type":<type>,"body":{"content":<content>}}` for welcome, system and error.
frame encode_frame(std::string_view type, std::string_view content);
frame encode_welcome(std::string_view content);
// `{"type":"welcome","body":{"content":<content>,"resume":<token>}}`: the
// answer to a `username`, with the client's resume token.
frame encode_welcome_with_resume(std::string_view content, std::string_view token);
frame encode_system(std::string_view content);
frame encode_error(protocol_error error);

// `{"type":"message","sender":<sender>,"body":<body_json>}`; body_json is
// copied verbatim, except that a raw carriage return (JSON white space)
// becomes a space.
frame encode_message(std::string_view sender, std::string_view body_json);

// `{"type":"pubkey","sender":<sender>,"body":{"content":<pem>}}`.
frame encode_public_key(std::string_view sender, std::string_view pem);

}  // namespace cturn
