#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/names.hpp"
#include "test_print.hpp"

namespace {

using cturn::protocol_error;

// U+0000–U+10FFFF (no surrogates) as UTF-8.
std::string utf8(char32_t code_point) {
  std::string out;
  const auto byte = [&out](std::uint32_t value) { out.push_back(static_cast<char>(value)); };
  const auto cp = static_cast<std::uint32_t>(code_point);
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6));
    byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18));
    byte(0x80 | ((cp >> 12) & 0x3F));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  }
  return out;
}

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out += unit;
  return out;
}

void check_username(std::string_view content, std::string_view expected) {
  const auto name = cturn::normalize_username(content);
  BOOST_TEST_CONTEXT("content of " << content.size() << " bytes") {
    if (!name) {
      BOOST_ERROR("rejected with " << name.error());
    } else {
      BOOST_TEST(*name == expected);
    }
  }
}

void check_username_error(std::string_view content, protocol_error expected) {
  const auto name = cturn::normalize_username(content);
  BOOST_TEST_CONTEXT("content of " << content.size() << " bytes") {
    if (name) {
      BOOST_ERROR("accepted as '" << *name << "'");
    } else {
      BOOST_TEST(name.error() == expected);
    }
  }
}

const std::string ascii_spaces = " \t\n\v\f\r";

}  // namespace

BOOST_AUTO_TEST_SUITE(names)

BOOST_AUTO_TEST_CASE(trims_each_ascii_space_character) {
  for (const char space : ascii_spaces) {
    BOOST_TEST_CONTEXT("character " << static_cast<int>(space)) {
      const std::string pad(3, space);
      BOOST_TEST(cturn::trim_ascii_space(std::string(pad).append("a b").append(pad)) == "a b");
      BOOST_TEST(cturn::trim_ascii_space(pad + "a") == "a");
      BOOST_TEST(cturn::trim_ascii_space("a" + pad) == "a");
      BOOST_TEST(cturn::trim_ascii_space("a" + pad + "b") == "a" + pad + "b");
      BOOST_TEST(cturn::trim_ascii_space(pad).empty());
    }
  }
  BOOST_TEST(cturn::trim_ascii_space(ascii_spaces + "x" + ascii_spaces) == "x");
  BOOST_TEST(cturn::trim_ascii_space("").empty());
}

BOOST_AUTO_TEST_CASE(other_characters_are_not_trimmed) {
  const std::string nbsp = utf8(0xA0);
  BOOST_TEST(cturn::trim_ascii_space(nbsp + "a" + nbsp) == nbsp + "a" + nbsp);
  BOOST_TEST(cturn::trim_ascii_space(utf8(0x3000) + "a") == utf8(0x3000) + "a");
  BOOST_TEST(cturn::trim_ascii_space(utf8(0x85) + "a") == utf8(0x85) + "a");
  const std::string with_nul = std::string(1, '\0') + "a" + std::string(1, '\0');
  BOOST_TEST(cturn::trim_ascii_space(with_nul) == with_nul);
  BOOST_TEST(cturn::trim_ascii_space("\x1c"
                                     "a\x1f") ==
             "\x1c"
             "a\x1f");
}

BOOST_AUTO_TEST_CASE(control_characters) {
  for (char32_t c = 0; c <= 0x1F; ++c) {
    BOOST_TEST_CONTEXT("U+" << std::hex << static_cast<unsigned>(c)) {
      BOOST_TEST(cturn::has_control_character("a" + utf8(c) + "b"));
    }
  }
  BOOST_TEST(cturn::has_control_character("a" + utf8(0x7F)));
  for (char32_t c = 0x80; c <= 0x9F; ++c) {
    BOOST_TEST_CONTEXT("U+" << std::hex << static_cast<unsigned>(c)) {
      BOOST_TEST(cturn::has_control_character(utf8(c) + "b"));
    }
  }
  for (const char32_t c : {char32_t{0x20}, char32_t{0x7E}, char32_t{0xA0}, char32_t{0xA1},
                           char32_t{0xBF}, char32_t{0xC0}, char32_t{0x100}, char32_t{0x200B},
                           char32_t{0x2028}, char32_t{0xFEFF}, char32_t{0x1F600}}) {
    BOOST_TEST_CONTEXT("U+" << std::hex << static_cast<unsigned>(c)) {
      BOOST_TEST(!cturn::has_control_character("a" + utf8(c) + "b"));
    }
  }
  // 0x80–0x9F as continuation bytes of longer sequences are not C1 controls.
  BOOST_TEST(!cturn::has_control_character(utf8(0x800)));   // E0 A0 80
  BOOST_TEST(!cturn::has_control_character(utf8(0x2000)));  // E2 80 80
  BOOST_TEST(!cturn::has_control_character(utf8(0x10080)));
  BOOST_TEST(!cturn::has_control_character(""));
  BOOST_TEST(!cturn::has_control_character("plain name"));
}

BOOST_AUTO_TEST_CASE(username_is_trimmed) {
  for (const char space : ascii_spaces)
    check_username(std::string(2, space) + "alice" + space, "alice");
  check_username("  al ice  ", "al ice");
}

BOOST_AUTO_TEST_CASE(username_empty) {
  check_username_error("", protocol_error::username_empty);
  check_username_error(ascii_spaces, protocol_error::username_empty);
  for (const char space : ascii_spaces)
    check_username_error(std::string(1, space), protocol_error::username_empty);
}

BOOST_AUTO_TEST_CASE(username_length_in_bytes) {
  static_assert(cturn::max_username_bytes == 32);
  check_username(std::string(32, 'a'), std::string(32, 'a'));
  check_username("  " + std::string(32, 'a') + "\t", std::string(32, 'a'));
  check_username_error(std::string(33, 'a'), protocol_error::username_invalid);

  const std::string e_acute = utf8(0xE9);       // 2 bytes
  const std::string ko_kai = utf8(0x0E01);      // 3 bytes (Thai letter)
  const std::string ideograph = utf8(0x20000);  // 4 bytes (CJK extension B)
  check_username(repeat(e_acute, 16), repeat(e_acute, 16));
  check_username_error(repeat(e_acute, 16) + "a", protocol_error::username_invalid);
  check_username(repeat(ideograph, 8), repeat(ideograph, 8));
  check_username_error(repeat(ideograph, 8) + "a", protocol_error::username_invalid);
  check_username(repeat(ko_kai, 10) + "aa", repeat(ko_kai, 10) + "aa");
  check_username_error(repeat(ko_kai, 11), protocol_error::username_invalid);
  check_username_error(std::string(31, 'a') + e_acute, protocol_error::username_invalid);
}

BOOST_AUTO_TEST_CASE(username_control_characters) {
  for (char32_t c = 0; c <= 0x9F; ++c) {
    if (c == 0x20)
      c = 0x7F;
    BOOST_TEST_CONTEXT("U+" << std::hex << static_cast<unsigned>(c)) {
      // Inside the name, so trimming cannot remove it.
      check_username_error("a" + utf8(c) + "b", protocol_error::username_invalid);
    }
  }
  check_username("Z" + utf8(0x19F), "Z" + utf8(0x19F));  // C6 9F: not a C1 control
}

// The profile's own cases are in name_profile_tests.cpp.
BOOST_AUTO_TEST_CASE(username_follows_the_name_profile) {
  for (const char32_t refused : {char32_t{0x200B}, char32_t{0xA0}, char32_t{0x202E}}) {
    BOOST_TEST_CONTEXT("U+" << std::hex << static_cast<unsigned>(refused)) {
      check_username_error("alice" + utf8(refused), protocol_error::username_invalid);
      check_username_error(utf8(refused), protocol_error::username_invalid);
    }
  }
  check_username_error("al  ice", protocol_error::username_invalid);
  check_username_error(utf8(0x301) + "alice", protocol_error::username_invalid);
  check_username(" Jos" + utf8(0xE9) + " ", "Jos" + utf8(0xE9));
  check_username("O'Brien", "O'Brien");
}

BOOST_AUTO_TEST_CASE(username_cannot_pass_for_a_client_label) {
  for (const std::string name : {"alice (private)", "[System] bob", "(you)", "bob:", "a]b", "a:b"})
    check_username_error(name, protocol_error::username_invalid);
  for (const char label : std::string_view("()[]:")) {
    BOOST_TEST_CONTEXT("character " << label) {
      BOOST_TEST(cturn::has_label_character(std::string("a") + label));
    }
  }
  BOOST_TEST(!cturn::has_label_character("anne-marie O'Brien {x} <y> #1 !?"));
}

BOOST_AUTO_TEST_CASE(room_name_rules) {
  static_assert(cturn::max_room_name_bytes == 64);
  const auto room = [](std::string_view content) { return cturn::normalize_room_name(content); };
  BOOST_TEST(room(std::string(64, 'r')).value() == std::string(64, 'r'));
  BOOST_TEST(room(" \t" + std::string(64, 'r') + "\r\n").value() == std::string(64, 'r'));
  BOOST_TEST(room(repeat(utf8(0xE9), 32)).value() == repeat(utf8(0xE9), 32));
  BOOST_TEST(room("  lobby  ").value() == "lobby");
  // Label characters are refused in usernames only: a room does not speak.
  BOOST_TEST(room("[lobby] (private): x").has_value());
  BOOST_TEST(room("the lobby").has_value());

  const std::vector<std::string> bad_names = {std::string(65, 'r'),
                                              repeat(utf8(0xE9), 32) + "r",
                                              std::string(),
                                              ascii_spaces,
                                              "lo" + utf8(0) + "bby",
                                              "lo" + utf8(0x1F) + "bby",
                                              "lo" + utf8(0x7F) + "bby",
                                              "lo" + utf8(0x85) + "bby",
                                              "lo" + utf8(0x9F) + "bby",
                                              "a" + utf8(0xA0) + "b",
                                              "lobby" + utf8(0x200B),
                                              utf8(0x200B),
                                              "lob  by",
                                              utf8(0x301) + "lobby"};
  for (const std::string& bad : bad_names) {
    BOOST_TEST_CONTEXT("room of " << bad.size() << " bytes") {
      const auto result = room(bad);
      BOOST_TEST(!result.has_value());
      if (!result)
        BOOST_TEST(result.error() == protocol_error::room_name_invalid);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
