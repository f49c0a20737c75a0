#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/decode.hpp"
#include "protocol/decode_general.hpp"
#include "protocol/message_scan.hpp"
#include "test_print.hpp"

// The scan for messages against the general path it stands in for: on every
// line it must either give up or answer exactly what the full parse answers.

namespace {

using cturn::protocol_error;
using namespace std::string_view_literals;

enum class path { scan, general };

// Which path decides `line`, after checking that a scan's answer is the
// general path's (and that decode() answers the same either way).
path decided_by(std::string_view line) {
  const auto scanned = cturn::scan_message(line);
  const auto parsed = cturn::decode_general(line);
  const auto decoded = cturn::decode(line);
  BOOST_TEST_CONTEXT("line: " << cturn::testing::printable(line)) {
    BOOST_TEST(decoded.has_value() == parsed.has_value());
    if (!parsed) {
      if (!decoded)
        BOOST_TEST(decoded.error() == parsed.error());
      BOOST_TEST(!scanned.has_value(),
                 "the scan decoded a line the parser refuses: " << parsed.error());
      return scanned ? path::scan : path::general;
    }
    const auto* expected = std::get_if<cturn::send_message>(&*parsed);
    if (!scanned) {
      if (expected != nullptr) {
        const auto* via_decode = std::get_if<cturn::send_message>(&*decoded);
        BOOST_REQUIRE(via_decode != nullptr);
        BOOST_TEST(via_decode->body == expected->body);
        BOOST_TEST((via_decode->to == expected->to));
      }
      return path::general;
    }
    BOOST_REQUIRE_MESSAGE(expected != nullptr, "the scan decoded another command as a message");
    BOOST_TEST(scanned->body == expected->body);
    BOOST_TEST(scanned->body.data() == expected->body.data());  // a view of the same bytes
    BOOST_TEST(scanned->to.has_value() == expected->to.has_value());
    if (scanned->to && expected->to)
      BOOST_TEST(*scanned->to == *expected->to);
  }
  return path::scan;
}

void check_scanned(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    BOOST_TEST_CONTEXT("line: " << cturn::testing::printable(line)) {
      BOOST_TEST((decided_by(line) == path::scan));
    }
  }
}

void check_left_to_the_parser(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    BOOST_TEST_CONTEXT("line: " << cturn::testing::printable(line)) {
      BOOST_TEST((decided_by(line) == path::general));
    }
  }
}

// Lines that only the parser may decide, and what it answers for them.
void check_parser_error(const std::vector<std::string>& lines, protocol_error expected) {
  check_left_to_the_parser(lines);
  for (const std::string& line : lines) {
    BOOST_TEST_CONTEXT("line: " << cturn::testing::printable(line)) {
      const auto decoded = cturn::decode(line);
      BOOST_REQUIRE(!decoded.has_value());
      BOOST_TEST(decoded.error() == expected);
    }
  }
}

std::string message_line(std::string_view body) {
  return std::string(R"({"type":"message","body":)") + std::string(body) + "}";
}

// A message whose envelope, body and `arrays` nested arrays make that many
// levels plus two.
std::string nested_message(std::size_t arrays) {
  return message_line(R"({"content":"x","n":)" + std::string(arrays, '[') +
                      std::string(arrays, ']') + "}");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(message_scan)

BOOST_AUTO_TEST_CASE(common_shapes_are_scanned) {
  check_scanned({
      message_line(R"({"content":"hi"})"),
      message_line(R"({"content":"hi","to":"bob"})"),
      message_line(R"({"to":"bob","content":"hi"})"),
      message_line(R"({"content":"hi","to":""})"),
      message_line(R"({"content":"hi","to":" b o b "})"),
      // The reference client's end-to-end encrypted form.
      message_line(R"({"content":"q83vEjRWeJA=","iv":"AAECAwQFBgcICQoL","encrypted":true,)"
                   R"("to":"carol"})"),
      R"({"body":{"content":"x","to":"bob"},"type":"message"})",
      R"({"id":7,"type":"message","meta":{"type":"create","body":5},"body":{"content":"x"},"z":[]})",
  });
}

BOOST_AUTO_TEST_CASE(white_space_anywhere_is_scanned) {
  check_scanned({
      " \t\r\n{ \"type\" : \"message\" ,\r\"body\"\t:\t{ \"content\" : \"x\" , \"to\" : \"bob\" "
      "}\n} \t",
      "{\"type\":\"message\",\"body\":{\"content\":\"x\"\r,\r\"iv\":1}}",
      R"({ "type": "message", "body": { "content": "hi", "to": "bob" } })",
  });
}

BOOST_AUTO_TEST_CASE(every_kind_of_value_in_the_body_is_scanned) {
  check_scanned({
      message_line(R"({"content":"x","n":[0,-0,1.5,-2.5e-3,1E+2,0e400,-0.0E+999,1e400,1e-400]})"),
      message_line(R"({"content":"x","big":123456789012345678901234567890})"),
      message_line(R"({"content":"x","huge":1e99999999999999999999,"h2":-2.5E+9999999999})"),
      message_line(R"({"content":"x","t":true,"f":false,"z":null,"a":[],"o":{},"s":""})"),
      message_line(R"({"content":"}{][,:","arr":[1,{"a":"]"},[],{}],"obj":{"body":{"x":"}"}}})"),
      message_line(R"({"content":"x","nested":{"to":5,"content":""},"list":[{"to":null}]})"),
      message_line(R"({"content":"\u00e9\n\"q\"\\ \/ \t\b\f\r","iv":"\ud83d\ude00\uD83D\uDE00"})"),
      message_line(R"({"content":"\\","q":"\\\"","end":"\\\\"})"),
      message_line(R"({"content":"x","escaped":{"k\u0065y":1,"t\u006f":2}})"),
      message_line("{\"content\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xed\x9f"
                   "\xbf\xee\x80\x80\x7f\",\"to\":\"\xc3\xa9\"}"),
      message_line(R"({"content":")" + std::string(5000, 'x') + "\"}"),
  });
}

BOOST_AUTO_TEST_CASE(nesting_up_to_max_json_depth_is_scanned) {
  static_assert(cturn::max_json_depth == 64);
  check_scanned({nested_message(cturn::max_json_depth - 2)});
  check_parser_error({nested_message(cturn::max_json_depth - 1), nested_message(10'000),
                      message_line(R"({"content":"x","n":)" + std::string(100'000, '{'))},
                     protocol_error::invalid_json);
  // Deep nesting in another envelope member counts the same.
  check_scanned({R"({"type":"message","x":)" + std::string(63, '[') + std::string(63, ']') +
                 R"(,"body":{"content":"x"}})"});
  check_parser_error({R"({"type":"message","x":)" + std::string(64, '[') + std::string(64, ']') +
                      R"(,"body":{"content":"x"}})"},
                     protocol_error::invalid_json);
}

// Adjacent literals splice raw bytes into a line on purpose.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
BOOST_AUTO_TEST_CASE(invalid_json_anywhere_is_left_to_the_parser) {
  check_parser_error(
      {
          message_line(R"({"content":"hi"})") + " x",
          message_line(R"({"content":"hi"})") + "}",
          message_line(R"({"content":"hi"})") + std::string(1, '\0'),
          message_line(R"({"content":"hi"})").substr(1),
          message_line(R"({"content":"hi"})").substr(0, 30),
          message_line(R"({"content":"hi",})"),
          R"({"type":"message","body":{"content":"hi"},})",
          R"({"type":"message" "body":{"content":"hi"}})",
          R"({"type":"message","body":{"content":"hi"} /* c */})",
          R"({"type":"message","body":{'content':"hi"}})",
          R"({type:"message","body":{"content":"hi"}})",
          message_line(R"({"content":"hi","n":NaN})"),
          message_line(R"({"content":"hi","n":Infinity})"),
          message_line(R"({"content":"hi","n":-Infinity})"),
          message_line(R"({"content":"hi","n":tru})"),
          message_line(R"({"content":"hi","n":nul})"),
          message_line(R"({"content":"hi","n":True})"),
          message_line(R"({"content":"hi","n":01})"),
          message_line(R"({"content":"hi","n":-01})"),
          message_line(R"({"content":"hi","n":+1})"),
          message_line(R"({"content":"hi","n":.5})"),
          message_line(R"({"content":"hi","n":1.})"),
          message_line(R"({"content":"hi","n":1.e5})"),
          message_line(R"({"content":"hi","n":1e})"),
          message_line(R"({"content":"hi","n":1e+})"),
          message_line(R"({"content":"hi","n":-})"),
          message_line(R"({"content":"hi","n":0x10})"),
          message_line(R"({"content":"hi","n":[1,]})"),
          message_line(R"({"content":"hi","n":[1 2]})"),
          message_line(R"({"content":"hi","n":{"a"}})"),
          message_line(R"({"content":"hi","n":{"a":1,}})"),
          message_line(R"({"content":"hi","n":[})"),
          message_line(R"({"content":"\x41"})"),
          message_line(R"({"content":"\u00g0"})"),
          message_line(R"({"content":"\u00e"})"),
          message_line(R"({"content":"\U00e9"})"),
          message_line(R"({"content":"\'"})"),
          message_line("{\"content\":\"a\x01\"}"),
          message_line("{\"content\":\"tab\tinside\"}"),
          message_line("{\"content\":\"new\nline\"}"),
          message_line("{\"content\":\"nul\0\"}"sv),
          message_line("{\"content\":\"x\",\"k\x1f\":1}"),
      },
      protocol_error::invalid_json);
}

BOOST_AUTO_TEST_CASE(invalid_unicode_is_left_to_the_parser) {
  check_parser_error(
      {
          message_line("{\"content\":\"\xff\"}"),
          message_line("{\"content\":\"\xc0\xaf\"}"),          // overlong '/'
          message_line("{\"content\":\"\xc1\xbf\"}"),          // overlong
          message_line("{\"content\":\"\xe0\x80\xaf\"}"),      // overlong
          message_line("{\"content\":\"\xe0\x9f\xbf\"}"),      // overlong
          message_line("{\"content\":\"\xed\xa0\x80\"}"),      // UTF-16 surrogate
          message_line("{\"content\":\"\xed\xbf\xbf\"}"),      // UTF-16 surrogate
          message_line("{\"content\":\"\xe2\x82\"}"),          // truncated
          message_line("{\"content\":\"\xf0\x9f\x98\"}"),      // truncated
          message_line("{\"content\":\"\xf0\x8f\xbf\xbf\"}"),  // overlong
          message_line("{\"content\":\"\xf4\x90\x80\x80\"}"),  // past U+10FFFF
          message_line("{\"content\":\"\xf5\x80\x80\x80\"}"),  // past U+10FFFF
          message_line("{\"content\":\"\x80"
                       "abc\"}"),                                // stray continuation
          message_line("{\"content\":\"\xc3\xc3\"}"),            // no continuation
          message_line("{\"content\":\"\xe2\x28\xa1\"}"),        // no continuation
          message_line("{\"content\":\"hi\",\"iv\":\"\xfe\"}"),  // in another member
          message_line("{\"content\":\"hi\",\"\xff\":1}"),       // in a key
          message_line("{\"content\":\"hi\",\"x\":[\"\xc3\"]}"),
          R"({"type":"message","body":{"content":"hi"},"x":")"
          "\xc3"
          R"("})",
          "{\"type\":\"message\",\"body\":{\"content\":\"hi\"},\"\xc3\":1}",
          message_line(R"({"content":"\ud800"})"),
          message_line(R"({"content":"\udc00"})"),
          message_line(R"({"content":"\udfff"})"),
          message_line(R"({"content":"a\ud83dx"})"),
          message_line(R"({"content":"\ud800\u0041"})"),
          message_line(R"({"content":"\ud800\ud800"})"),
          message_line(R"({"content":"\ude00\ud83d"})"),
          message_line(R"({"content":"\ud83d\\ude00"})"),
          message_line(R"({"content":"\ud83d"})"),
          message_line(R"({"content":"hi","iv":"\ud800"})"),
          message_line(R"({"content":"hi","k\udbff":1})"),
      },
      protocol_error::invalid_json);
}
// NOLINTEND(bugprone-suspicious-missing-comma)

// The parser decodes escaped strings through a 4 KiB buffer, in parts; a
// character or escape cut by a part's end must read the same as anywhere else.
BOOST_AUTO_TEST_CASE(long_escaped_strings_agree_at_every_offset) {
  for (const std::string_view tail :
       {"\xc3\xa9"sv, "\xe2\x82\xac"sv, "\xf0\x9f\x98\x80"sv, "\\u00e9"sv, "\\ud83d\\ude00"sv,
        "\xf0\x9f\x98"sv, "\\ud83d"sv, "\\ud83dx"sv, "\\ud83d\\u0041"sv}) {
    for (std::size_t length = 4080; length < 4110; ++length) {
      const std::string content = "\\n" + std::string(length, 'x') + std::string(tail) + "y";
      decided_by(message_line(R"({"content":")" + content + "\"}"));
      decided_by(message_line(R"({"content":"x","iv":")" + content + "\"}"));
    }
  }
}

BOOST_AUTO_TEST_CASE(other_commands_are_left_to_the_parser) {
  check_left_to_the_parser({
      R"({"type":"username","body":{"content":"alice"}})",
      R"({"type":"create","body":{"content":"lobby"}})",
      R"({"type":"join","body":{"content":"lobby"}})",
      R"({"type":"leave","body":{}})",
      R"({"type":"messages","body":{"content":"x"}})",
      R"({"type":"Message","body":{"content":"x"}})",
      R"({"type":"message ","body":{"content":"x"}})",
      R"({"type":"","body":{"content":"x"}})",
  });
}

BOOST_AUTO_TEST_CASE(bad_envelopes_are_left_to_the_parser) {
  check_parser_error({"[]", "5", R"("message")", "null", R"([{"type":"message"}])"},
                     protocol_error::invalid_format);
  check_parser_error(
      {
          "{}",
          R"({"type":"message"})",
          R"({"body":{"content":"x"}})",
          R"({"type":5,"body":{"content":"x"}})",
          R"({"type":null,"body":{"content":"x"}})",
          R"({"type":["message"],"body":{"content":"x"}})",
          R"({"type":"message","body":"x"})",
          R"({"type":"message","body":null})",
          R"({"type":"message","body":[{"content":"x"}]})",
          R"({"Type":"message","body":{"content":"x"}})",
          R"({"type":"message","Body":{"content":"x"}})",
      },
      protocol_error::invalid_format);
}

BOOST_AUTO_TEST_CASE(bad_content_and_to_are_left_to_the_parser) {
  check_parser_error(
      {
          message_line("{}"),
          message_line(R"({"content":""})"),
          message_line(R"({"content":null})"),
          message_line(R"({"content":5})"),
          message_line(R"({"content":["x"]})"),
          message_line(R"({"content":{"x":1}})"),
          message_line(R"({"Content":"x"})"),
          message_line(R"({"to":"bob"})"),
          message_line(R"({"content":"x","to":null})"),
          message_line(R"({"content":"x","to":5})"),
          message_line(R"({"content":"x","to":true})"),
          message_line(R"({"content":"x","to":["bob"]})"),
          message_line(R"({"content":"x","to":{"name":"bob"}})"),
      },
      protocol_error::invalid_content);
}

BOOST_AUTO_TEST_CASE(escapes_that_need_decoding_are_left_to_the_parser) {
  check_left_to_the_parser({
      R"({"t\u0079pe":"message","body":{"content":"x"}})",
      R"({"type":"m\u0065ssage","body":{"content":"x"}})",
      R"({"type":"message","b\u006fdy":{"content":"x"}})",
      R"({"type":"message","body":{"c\u006fntent":"x"}})",
      R"({"type":"message","body":{"content":"x","t\u006f":"bob"}})",
      R"({"type":"message","body":{"content":"x","to":"b\u006fb"}})",
      R"({"type":"message","body":{"content":"x","to":"\"bob\""}})",
      // An escaped key that spells none of them is given up on too.
      R"({"type":"message","x\n":1,"body":{"content":"x"}})",
      R"({"type":"message","body":{"content":"x","x\n":1}})",
  });
}

BOOST_AUTO_TEST_CASE(parser_keeps_the_last_of_duplicate_keys) {
  // What the scan would have to mirror; it leaves these lines to the parser.
  const auto to_twice = cturn::decode_general(message_line(R"({"content":"x","to":"a","to":"b"})"));
  BOOST_REQUIRE(to_twice.has_value());
  BOOST_TEST(*std::get<cturn::send_message>(*to_twice).to == "b");
  const auto content_twice = cturn::decode_general(message_line(R"({"content":"x","content":""})"));
  BOOST_REQUIRE(!content_twice.has_value());
  BOOST_TEST(content_twice.error() == protocol_error::invalid_content);
  const auto type_twice =
      cturn::decode_general(R"({"type":"join","type":"message","body":{"content":"x"}})");
  BOOST_REQUIRE(type_twice.has_value());
  BOOST_TEST(std::holds_alternative<cturn::send_message>(*type_twice));

  check_left_to_the_parser({
      R"({"type":"message","type":"message","body":{"content":"x"}})",
      R"({"type":"message","type":"join","body":{"content":"x"}})",
      R"({"type":"join","type":"message","body":{"content":"x"}})",
      R"({"type":"message","body":{"content":"a"},"body":{"content":"b"}})",
      R"({"type":"message","body":{"content":"a","to":"x"},"body":{"content":"b"}})",
      R"({"type":"message","body":5,"body":{"content":"b"}})",
      message_line(R"({"content":"x","content":"y"})"),
      message_line(R"({"content":"x","content":""})"),
      message_line(R"({"content":"x","to":"a","to":"b"})"),
      message_line(R"({"content":"x","to":"a","to":5})"),
  });
  // Duplicates of members the command does not read change nothing.
  check_scanned({
      R"({"type":"message","x":1,"x":2,"body":{"content":"x","iv":1,"iv":"2"}})",
  });
}

BOOST_AUTO_TEST_CASE(decode_answers_as_the_parser_on_every_existing_shape) {
  // A sample of decode_tests' lines, through both paths.
  for (const std::string_view line : {
           R"({"type":"message","body":{"content":"x"},"body":5})",
           R"({"note":"\"body\":{}","type":"message","body" : {"content":"x"} })",
           R"({"x":{"body":{"content":"inner"}},"type":"message","body":{"content":"outer"}})",
           R"({"type":"leave","body":{"content":5}})",
           R"({"body":{},"type":"leave","extra":null})",
       }) {
    decided_by(line);
  }
}

BOOST_AUTO_TEST_SUITE_END()
