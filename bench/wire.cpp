#include "wire.hpp"

#include <cstring>

namespace cturn::bench {
namespace {

constexpr std::size_t sender_digits = 7;
constexpr std::size_t sequence_digits = 10;
constexpr std::size_t time_digits = 16;
constexpr std::size_t sequence_at = 1 + sender_digits + 1;
constexpr std::size_t time_at = sequence_at + sequence_digits + 1;
static_assert(time_at + time_digits + 1 == stamp_size);

void write_digits(char* at, std::size_t width, std::uint64_t value) {
  for (std::size_t i = width; i-- > 0;) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

bool read_digits(const char* at, std::size_t width, std::uint64_t& value) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const auto digit = static_cast<unsigned>(static_cast<unsigned char>(at[i]) - '0');
    if (digit > 9)
      return false;
    result = result * 10 + digit;
  }
  value = result;
  return true;
}

constexpr std::string_view cturn_message_head = R"({"type":"message","body":{"content":")";

}  // namespace

std::string make_payload(std::uint32_t sender, std::size_t size) {
  std::string payload(std::max(size, stamp_size), 'x');
  payload[0] = '#';
  write_digits(payload.data() + 1, sender_digits, sender);
  payload[sequence_at - 1] = ':';
  payload[time_at - 1] = ':';
  payload[stamp_size - 1] = '|';
  set_stamp(payload.data(), 0, 0);
  return payload;
}

void set_stamp(char* payload, std::uint64_t sequence, std::uint64_t sent_ns) {
  write_digits(payload + sequence_at, sequence_digits, sequence);
  write_digits(payload + time_at, time_digits, sent_ns);
}

std::optional<stamp> find_stamp(std::string_view line, bool& malformed) {
  const auto* hash = static_cast<const char*>(std::memchr(line.data(), '#', line.size()));
  if (hash == nullptr)
    return std::nullopt;
  malformed = true;
  if (static_cast<std::size_t>(line.data() + line.size() - hash) < stamp_size)
    return std::nullopt;
  if (hash[sequence_at - 1] != ':' || hash[time_at - 1] != ':' || hash[stamp_size - 1] != '|')
    return std::nullopt;
  std::uint64_t sender = 0;
  stamp result;
  if (!read_digits(hash + 1, sender_digits, sender) ||
      !read_digits(hash + sequence_at, sequence_digits, result.sequence) ||
      !read_digits(hash + time_at, time_digits, result.sent_ns))
    return std::nullopt;
  result.sender = static_cast<std::uint32_t>(sender);
  malformed = false;
  return result;
}

void append_message(std::string& out, target kind, std::string_view payload, std::string_view to) {
  if (kind == target::bare) {
    if (!to.empty()) {
      out.push_back('@');
      out.append(to);
      out.push_back(' ');
    }
    out.append(payload);
    out.push_back('\n');
    return;
  }
  out.append(cturn_message_head);
  out.append(payload);
  if (to.empty()) {
    out.append("\"}}\n");
  } else {
    out.append(R"(","to":")");
    out.append(to);
    out.append("\"}}\n");
  }
}

std::string username_line(target kind, std::string_view name) {
  if (kind == target::bare)
    return {};
  return R"({"type":"username","body":{"content":")" + std::string(name) + "\"}}\n";
}

std::string enter_room_line(target kind, bool create, std::string_view room,
                            std::string_view name) {
  if (kind == target::bare)
    return "join " + std::string(room) + ' ' + std::string(name) + '\n';
  return std::string(create ? R"({"type":"create")" : R"({"type":"join")") +
         R"(,"body":{"content":")" + std::string(room) + "\"}}\n";
}

reply_kind classify_reply(target kind, std::string_view line) {
  if (is_error_frame(kind, line))
    return reply_kind::error;
  if (kind == target::bare)
    return line == "ok" ? reply_kind::accepted : reply_kind::other;
  return line.starts_with(R"({"type":"welcome")") ? reply_kind::accepted : reply_kind::other;
}

bool is_error_frame(target kind, std::string_view line) {
  if (kind == target::bare)
    return line.starts_with("error");
  return line.starts_with(R"({"type":"error")");
}

}  // namespace cturn::bench
