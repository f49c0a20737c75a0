#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cturn::bench {

// What the generator talks to: a CTurn server (newline-delimited JSON), or
// cturn-bare-relay (plain lines, see bare_relay.cpp).
enum class target { cturn, bare };

// Every message payload starts with a fixed-width stamp that receivers find
// with one memchr and parse without a JSON parser:
//   '#' sender(7 digits) ':' sequence(10 digits) ':' send time in ns(16 digits) '|'
// then 'x' padding up to the requested size. The payload is the `content` of a
// CTurn message body, or the whole line for the bare relay.
inline constexpr std::size_t stamp_size = 37;
inline constexpr std::uint64_t max_sender = 9'999'999;

struct stamp {
  std::uint32_t sender = 0;
  std::uint64_t sequence = 0;
  std::uint64_t sent_ns = 0;
};

// A payload of `size` bytes (at least stamp_size) with the sender filled in.
std::string make_payload(std::uint32_t sender, std::size_t size);

// Rewrites the sequence and time digits of a payload made by make_payload.
void set_stamp(char* payload, std::uint64_t sequence, std::uint64_t sent_ns);

// The stamp of a received line: the first '#' starts it. nullopt when the line
// carries no stamp; `malformed` is set when a '#' is there but the digits are not.
std::optional<stamp> find_stamp(std::string_view line, bool& malformed);

// Appends one outgoing message line to `out`; `to` empty means broadcast.
void append_message(std::string& out, target kind, std::string_view payload, std::string_view to);

// Registration lines.
std::string username_line(target kind, std::string_view name);
std::string enter_room_line(target kind, bool create, std::string_view room, std::string_view name);

enum class reply_kind { accepted, error, other };

// Classifies a reply during registration: `accepted` is CTurn's `welcome` or
// the bare relay's `ok`.
reply_kind classify_reply(target kind, std::string_view line);

// True for a CTurn `error` frame or a bare-relay `error` line.
bool is_error_frame(target kind, std::string_view line);

}  // namespace cturn::bench
