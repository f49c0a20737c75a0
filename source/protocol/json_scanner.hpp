#pragma once

#include <cstddef>
#include <string_view>

namespace cturn {

// Walks JSON text token by token without building anything: one pass, no
// allocation. Everything it passes over is validated the way Boost.JSON's
// parser validates with its default options: RFC 8259 and nothing more (no
// comments, no trailing commas, no NaN), UTF-8 checked byte by byte in every
// string, surrogate escapes only in pairs, nesting deeper than `max_depth`
// refused. Numbers are the one difference: any exponent is accepted, as
// decode() accepts it (Boost.JSON stops at exponents past the range of int,
// and decode() parses those again with with_short_exponents()).
//
// A read that returns false has found text that is not valid JSON there; the
// position is then unspecified and the scanner should not be used further.
class json_scanner {
 public:
  // A string as written between its quotes.
  struct string_token {
    std::string_view raw;
    // With escapes, `raw` is not the string's value (which the scanner never
    // builds); without, it is.
    bool has_escapes = false;
  };

  json_scanner(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

  std::size_t position() const { return pos_; }
  bool at_end() const { return pos_ == text_.size(); }
  // The next byte, or '\0' at the end (which no valid token starts with).
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  std::string_view text_between(std::size_t from, std::size_t to) const {
    return text_.substr(from, to - from);
  }

  void skip_space() {
    while (pos_ < text_.size() && is_json_space(text_[pos_]))
      ++pos_;
  }

  // Each read starts at the token itself, not at white space before it.
  bool read_string(string_token& token);
  // Any value held by a container at nesting `depth` (0 for the top level);
  // a container value opens level depth + 1.
  bool skip_value(std::size_t depth);

  // An object whose '{' is next and which opens nesting `level`. For each
  // member, `visit(key)` is called with the scanner at the member's value,
  // which it must read; its false ends the read with false (so a caller can
  // stop on a member it does not want to handle).
  template <typename Visit>
  bool read_object(std::size_t level, Visit&& visit);

 private:
  static bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos_;
    return true;
  }
  bool skip_object(std::size_t level);
  bool skip_array(std::size_t level);
  bool skip_number();
  bool skip_digits();
  bool skip_literal(std::string_view literal);
  bool skip_escape();
  bool read_hex4(unsigned& value);
  bool skip_utf8_sequence();

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
};

template <typename Visit>
bool json_scanner::read_object(std::size_t level, Visit&& visit) {
  if (level > max_depth_ || !consume('{'))
    return false;
  skip_space();
  if (consume('}'))
    return true;
  for (;;) {
    string_token key;
    if (!read_string(key))
      return false;
    skip_space();
    if (!consume(':'))
      return false;
    skip_space();
    if (!visit(key))
      return false;
    skip_space();
    if (consume('}'))
      return true;
    if (!consume(','))
      return false;
    skip_space();
  }
}

}  // namespace cturn
