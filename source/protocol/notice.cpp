#include "protocol/notice.hpp"

#include "protocol/encode.hpp"

namespace cturn {
namespace {

struct wording {
  bool welcome;  // else system
  std::string_view before_subject;
  std::string_view after_subject;
};

wording wording_of(notice kind) noexcept {
  switch (kind) {
    case notice::username_set:
      return {true, "Username set to: ", ""};
    case notice::room_created:
      return {true, "Created and joined room: ", ""};
    case notice::room_joined:
      return {true, "Joined room: ", ""};
    case notice::room_left:
      return {true, "Left room: ", ""};
    case notice::member_created_room:
      return {false, "", " created the room"};
    case notice::member_joined:
      return {false, "", " joined the room"};
    case notice::member_left:
      return {false, "", " left the room"};
    case notice::member_disconnected:
      return {false, "", " disconnected"};
    case notice::shutting_down:
      return {false, "Server shutting down", ""};
    case notice::unavailable:
      return {false, "Server unavailable", ""};
    case notice::resumed_elsewhere:
      return {false, "Session resumed elsewhere", ""};
  }
  return {false, "", ""};
}

}  // namespace

std::string notice_text(notice kind, std::string_view subject) {
  const wording words = wording_of(kind);
  std::string text;
  text.reserve(words.before_subject.size() + subject.size() + words.after_subject.size());
  text.append(words.before_subject).append(subject).append(words.after_subject);
  return text;
}

frame encode_notice(notice kind, std::string_view subject) {
  const std::string text = notice_text(kind, subject);
  return wording_of(kind).welcome ? encode_welcome(text) : encode_system(text);
}

}  // namespace cturn
