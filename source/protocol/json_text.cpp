#include "protocol/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

namespace cturn {
namespace {

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

class scanner {
 public:
  explicit scanner(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && is_json_space(text_[pos_]))
      ++pos_;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void advance() { ++pos_; }
  std::size_t position() const { return pos_; }

  // Leaves the position just past the closing quote.
  void skip_string() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"')
      pos_ += text_[pos_] == '\\' ? 2 : 1;
    ++pos_;
  }

  void skip_value() {
    const char first = peek();
    if (first == '"') {
      skip_string();
    } else if (first == '{' || first == '[') {
      int depth = 0;
      do {
        const char c = peek();
        if (c == '"') {
          skip_string();
          continue;
        }
        if (c == '{' || c == '[')
          ++depth;
        if (c == '}' || c == ']')
          --depth;
        ++pos_;
      } while (depth > 0 && pos_ < text_.size());
    } else {
      while (pos_ < text_.size() && !is_json_space(text_[pos_]) && text_[pos_] != ',' &&
             text_[pos_] != '}' && text_[pos_] != ']')
        ++pos_;
    }
  }

  std::string_view slice(std::size_t from, std::size_t to) const {
    return text_.substr(from, to - from);
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Keys with escapes ("b\u006fdy") are rare; decode them with the real parser.
bool key_equals(std::string_view quoted_key, std::string_view key) {
  const std::string_view inner = quoted_key.substr(1, quoted_key.size() - 2);
  if (inner.find('\\') == std::string_view::npos)
    return inner == key;
  boost::json::error_code ec;
  const boost::json::value decoded = boost::json::parse(quoted_key, ec);
  return !ec && decoded.is_string() && std::string_view(decoded.get_string()) == key;
}

}  // namespace

std::optional<std::string_view> member_text(std::string_view object, std::string_view key) {
  scanner in(object);
  in.skip_space();
  if (in.peek() != '{')
    return std::nullopt;
  in.advance();
  std::optional<std::string_view> found;
  for (;;) {
    in.skip_space();
    if (in.peek() != '"')
      return found;
    const std::size_t key_start = in.position();
    in.skip_string();
    const bool wanted = key_equals(in.slice(key_start, in.position()), key);
    in.skip_space();
    in.advance();  // ':'
    in.skip_space();
    const std::size_t value_start = in.position();
    in.skip_value();
    if (wanted)
      found = in.slice(value_start, in.position());
    in.skip_space();
    if (in.peek() != ',')
      return found;
    in.advance();
  }
}

std::string with_short_exponents(std::string_view text) {
  constexpr std::size_t longest_exponent = 4;
  std::string result;
  result.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    result.push_back(c);
    if (in_string) {
      if (c == '\\') {
        if (++i < text.size())
          result.push_back(text[i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    const bool after_digit = i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9';
    if ((c != 'e' && c != 'E') || !after_digit)
      continue;
    std::size_t digits = i + 1;
    if (digits < text.size() && (text[digits] == '+' || text[digits] == '-'))
      result.push_back(text[digits++]);
    std::size_t end = digits;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9')
      ++end;
    if (end - digits > longest_exponent) {
      result.append("9999");
    } else {
      result.append(text.substr(digits, end - digits));
    }
    i = end - 1;
  }
  return result;
}

}  // namespace cturn
