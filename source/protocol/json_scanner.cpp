#include "protocol/json_scanner.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace cturn {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Printable ASCII other than '"' and '\': a string holds these as they are.
bool is_plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// The high bit of every byte of `word` that is not plain, and maybe of some
// after the first such byte (the classic "has a zero byte" and "has a byte
// less than n" bit tricks: a borrow can only carry upwards). So the lowest bit
// set marks the first byte that is not plain, in memory order when the
// machine is little-endian.
std::uint64_t unplain_bytes(std::uint64_t word) {
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t high_bits = 0x8080808080808080;
  const auto zero_bytes = [](std::uint64_t w) { return (w - ones) & ~w & high_bits; };
  const std::uint64_t control = (word - ones * 0x20) & ~word & high_bits;
  const std::uint64_t quote = zero_bytes(word ^ (ones * '"'));
  const std::uint64_t backslash = zero_bytes(word ^ (ones * '\\'));
  return control | quote | backslash | (word & high_bits);
}

// The position of the first byte at or after `pos` that is not plain.
// Strings are mostly runs of plain text (a message's ciphertext in base64),
// so these are checked eight bytes at a time. (A free function: its position
// stays in a register, where a member's would be stored after every step,
// since the text's bytes may alias it as far as the compiler knows.)
std::size_t end_of_plain_run(std::string_view text, std::size_t pos) {
  while (text.size() - pos >= sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + pos, sizeof word);
    const std::uint64_t unplain = unplain_bytes(word);
    if (unplain == 0) {
      pos += sizeof word;
    } else if constexpr (std::endian::native == std::endian::little) {
      return pos + static_cast<std::size_t>(std::countr_zero(unplain)) / 8;
    } else {
      break;
    }
  }
  while (pos < text.size() && is_plain(static_cast<unsigned char>(text[pos])))
    ++pos;
  return pos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool in_range(unsigned char c, unsigned char low, unsigned char high) {
  return c >= low && c <= high;
}

}  // namespace

bool json_scanner::read_string(string_token& token) {
  if (!consume('"'))
    return false;
  const std::size_t start = pos_;
  bool has_escapes = false;
  for (;;) {
    pos_ = end_of_plain_run(text_, pos_);
    if (at_end())
      return false;
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      token = {.raw = text_between(start, pos_), .has_escapes = has_escapes};
      ++pos_;
      return true;
    }
    if (c == '\\') {
      has_escapes = true;
      if (!skip_escape())
        return false;
    } else if (c < 0x20 || !skip_utf8_sequence()) {
      return false;
    }
  }
}

bool json_scanner::skip_escape() {
  ++pos_;  // '\'
  switch (peek()) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      ++pos_;
      return true;
    case 'u':
      break;
    default:
      return false;
  }
  ++pos_;
  unsigned unit = 0;
  if (!read_hex4(unit))
    return false;
  if (unit < 0xD800 || unit > 0xDFFF)
    return true;
  // A leading surrogate must be followed by an escaped trailing one; a
  // trailing surrogate alone is not a character either.
  if (unit > 0xDBFF || !consume('\\') || !consume('u'))
    return false;
  unsigned trailing = 0;
  return read_hex4(trailing) && trailing >= 0xDC00 && trailing <= 0xDFFF;
}

bool json_scanner::read_hex4(unsigned& value) {
  if (text_.size() - pos_ < 4)
    return false;
  value = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = hex_value(text_[pos_++]);
    if (digit < 0)
      return false;
    value = value * 16 + static_cast<unsigned>(digit);
  }
  return true;
}

// Well-formed UTF-8 as in Table 3-7 of the Unicode Standard: no overlong
// forms, no surrogates, nothing past U+10FFFF.
bool json_scanner::skip_utf8_sequence() {
  const auto byte = [this](std::size_t i) { return static_cast<unsigned char>(text_[pos_ + i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  if (in_range(lead, 0xC2, 0xDF)) {
    length = 2;
  } else if (in_range(lead, 0xE0, 0xEF)) {
    length = 3;
    if (lead == 0xE0)
      second_low = 0xA0;
    if (lead == 0xED)
      second_high = 0x9F;
  } else if (in_range(lead, 0xF0, 0xF4)) {
    length = 4;
    if (lead == 0xF0)
      second_low = 0x90;
    if (lead == 0xF4)
      second_high = 0x8F;
  } else {
    return false;
  }
  if (text_.size() - pos_ < length || !in_range(byte(1), second_low, second_high))
    return false;
  for (std::size_t i = 2; i < length; ++i) {
    if (!in_range(byte(i), 0x80, 0xBF))
      return false;
  }
  pos_ += length;
  return true;
}

bool json_scanner::skip_value(std::size_t depth) {
  switch (peek()) {
    case '"': {
      string_token ignored;
      return read_string(ignored);
    }
    case '{':
      return skip_object(depth + 1);
    case '[':
      return skip_array(depth + 1);
    case 't':
      return skip_literal("true");
    case 'f':
      return skip_literal("false");
    case 'n':
      return skip_literal("null");
    default:
      return skip_number();
  }
}

bool json_scanner::skip_object(std::size_t level) {
  return read_object(level, [this, level](const string_token&) { return skip_value(level); });
}

bool json_scanner::skip_array(std::size_t level) {
  if (level > max_depth_ || !consume('['))
    return false;
  skip_space();
  if (consume(']'))
    return true;
  for (;;) {
    if (!skip_value(level))
      return false;
    skip_space();
    if (consume(']'))
      return true;
    if (!consume(','))
      return false;
    skip_space();
  }
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; what follows is the
// caller's to check, so "01" fails there, at the '1'.
bool json_scanner::skip_number() {
  consume('-');
  if (!consume('0') && !skip_digits())
    return false;
  if (consume('.') && !skip_digits())
    return false;
  if (peek() == 'e' || peek() == 'E') {
    ++pos_;
    if (!consume('+'))
      consume('-');
    return skip_digits();
  }
  return true;
}

// At least one digit.
bool json_scanner::skip_digits() {
  const std::size_t start = pos_;
  while (is_digit(peek()))
    ++pos_;
  return pos_ > start;
}

bool json_scanner::skip_literal(std::string_view literal) {
  if (text_.substr(pos_, literal.size()) != literal)
    return false;
  pos_ += literal.size();
  return true;
}

}  // namespace cturn
