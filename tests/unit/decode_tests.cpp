#include <boost/test/unit_test.hpp>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/decode.hpp"
#include "protocol/names.hpp"
#include "test_print.hpp"

namespace {

using cturn::protocol_error;

void check_error(std::string_view line, protocol_error expected) {
  BOOST_TEST_CONTEXT("line: " << cturn::testing::printable(line)) {
    const auto decoded = cturn::decode(line);
    if (decoded) {
      BOOST_ERROR("decoded, expected " << expected);
    } else {
      BOOST_TEST(decoded.error() == expected);
    }
  }
}

void check_errors(const std::vector<std::string>& lines, protocol_error expected) {
  for (const std::string& line : lines)
    check_error(line, expected);
}

// Message bodies are views of the line they were decoded from, so the lines
// decoded here are kept until the test program ends.
std::string_view kept(std::string_view line) {
  static std::deque<std::string> lines;
  return lines.emplace_back(line);
}

// The command of type T that `line` decodes to; fails the test case otherwise.
template <typename T>
T decoded_as(std::string_view line) {
  const auto decoded = cturn::decode(kept(line));
  BOOST_TEST_CONTEXT("line: " << cturn::testing::printable(line)) {
    if (!decoded)
      BOOST_FAIL("decode failed: " << decoded.error());
    if (!std::holds_alternative<T>(*decoded))
      BOOST_FAIL("decoded to another command");
  }
  return std::get<T>(*decoded);
}

std::string message_line(std::string_view body) {
  return std::string(R"({"type":"message","body":)") + std::string(body) + "}";
}

std::string username_with_key(std::string_view pubkey_json) {
  return std::string(R"({"type":"username","body":{"content":"alice","pubkey":)") +
         std::string(pubkey_json) + "}}";
}

// A message whose envelope, body and `arrays` nested arrays make that many
// levels plus two.
std::string nested_message(std::size_t arrays) {
  return R"({"type":"message","body":{"content":"x","n":)" + std::string(arrays, '[') +
         std::string(arrays, ']') + "}}";
}

const std::vector<std::string> content_commands = {"username", "create", "join", "message"};

}  // namespace

BOOST_AUTO_TEST_SUITE(decode)

// Adjacent literals splice raw bytes into a line on purpose.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
BOOST_AUTO_TEST_CASE(row2_not_json) {
  check_errors(
      {
          "",
          "not json",
          "{",
          "}",
          R"({"type":"username","body":{"content":"alice"})",
          R"({'type':'username','body':{'content':'alice'}})",
          R"({"type":"username","body":{"content":"alice",}})",
          R"({"type":"username","body":{"content":"alice"},})",
          R"({type:"username",body:{content:"alice"}})",
          R"({"type":"username" "body":{"content":"alice"}})",
          R"({"type":"username","body":{"content":"a)"
          "\x01"
          R"(b"}})",
          R"({"type":"username","body":{"content":"tab)"
          "\t"
          R"(inside"}})",
          R"({"type":"username","body":{"content":"\x41"}})",
          R"({"type":"username","body":{"content":"alice"}} /* comment */)",
          R"({"type":"username","body":{"content":"alice"}} // comment)",
          "[1,2",
          "nul",
          "tru",
          "01",
          "+1",
          ".5",
          "1.",
          "0x10",
      },
      protocol_error::invalid_json);
}
// NOLINTEND(bugprone-suspicious-missing-comma)

BOOST_AUTO_TEST_CASE(row2_trailing_data_after_the_object) {
  const std::string line = R"({"type":"username","body":{"content":"alice"}})";
  check_errors({line + " x", line + "{}", line + line, line + ",", line + "]", line + "\"",
                line + " 1", line + std::string(1, '\0')},
               protocol_error::invalid_json);
  BOOST_TEST(cturn::decode(line + " \t\r ").has_value());
  BOOST_TEST(cturn::decode(" \t\r " + line).has_value());
}

BOOST_AUTO_TEST_CASE(row2_nan_and_infinity_are_not_json) {
  check_errors(
      {
          message_line(R"({"content":"x","n":NaN})"),
          message_line(R"({"content":"x","n":Infinity})"),
          message_line(R"({"content":"x","n":-Infinity})"),
          message_line(R"({"content":"x","n":nan})"),
          message_line(R"({"content":"x","n":inf})"),
          "NaN",
          "Infinity",
      },
      protocol_error::invalid_json);
}

// Adjacent literals splice raw bytes into a line on purpose.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
BOOST_AUTO_TEST_CASE(row2_invalid_utf8) {
  check_errors(
      {
          R"({"type":"username","body":{"content":")"
          "\xff"
          R"("}})",
          R"({"type":"username","body":{"content":")"
          "\xc0\xaf"
          R"("}})",  // overlong '/'
          R"({"type":"username","body":{"content":")"
          "\xe0\x80\xaf"
          R"("}})",
          R"({"type":"username","body":{"content":")"
          "\xed\xa0\x80"
          R"("}})",  // UTF-16 surrogate
          R"({"type":"username","body":{"content":")"
          "\xe2\x82"
          R"("}})",  // truncated
          R"({"type":"username","body":{"content":")"
          "\xf4\x90\x80\x80"
          R"("}})",  // > U+10FFFF
          R"({"type":"username","body":{"content":")"
          "\x80"
          R"(abc"}})",  // stray continuation
          R"({"type":"message","body":{"content":"hi","iv":")"
          "\xfe"
          R"("}})",
          R"({"type":"message","body":{"content":"hi",")"
          "\xff"
          R"(":1}})",  // in a key
          R"({"type":"message","body":{"content":"hi"},"x":")"
          "\xc3"
          R"("})",
          // Row 2 before row 3: invalid UTF-8 inside a value that is not an object.
          R"([")"
          "\xff"
          R"("])",
          R"(")"
          "\xff"
          R"(")",
      },
      protocol_error::invalid_json);
}
// NOLINTEND(bugprone-suspicious-missing-comma)

BOOST_AUTO_TEST_CASE(row2_lone_surrogate_escapes) {
  check_errors(
      {
          R"({"type":"username","body":{"content":"\ud800"}})",
          R"({"type":"username","body":{"content":"\udc00"}})",
          R"({"type":"username","body":{"content":"\udfff"}})",
          R"({"type":"username","body":{"content":"a\ud83dx"}})",
          R"({"type":"username","body":{"content":"\ud800\u0041"}})",
          R"({"type":"username","body":{"content":"\ud800\ud800"}})",
          R"({"type":"username","body":{"content":"\ude00\ud83d"}})",
          R"({"type":"message","body":{"content":"hi","iv":"\ud800"}})",
      },
      protocol_error::invalid_json);
}

BOOST_AUTO_TEST_CASE(valid_utf8_is_decoded) {
  // 2-, 3- and 4-byte sequences, raw and as escapes (a surrogate pair).
  const auto raw = decoded_as<cturn::set_username>(R"({"type":"username","body":{"content":")"
                                                   "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                                                   R"("}})");
  BOOST_TEST(raw.name == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  const auto escaped = decoded_as<cturn::set_username>(
      R"({"type":"username","body":{"content":"\u00e9\u20ac\ud83d\ude00"}})");
  BOOST_TEST(escaped.name == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  const auto message = decoded_as<cturn::send_message>(message_line(R"({"content":")"
                                                                    "\xf0\x9f\x98\x80"
                                                                    R"(","to":")"
                                                                    "\xc3\xa9"
                                                                    R"("})"));
  BOOST_TEST(message.body == R"({"content":")"
                             "\xf0\x9f\x98\x80"
                             R"(","to":")"
                             "\xc3\xa9"
                             R"("})");
  BOOST_REQUIRE(message.to.has_value());
  BOOST_TEST(*message.to == "\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(row3_top_level_not_an_object) {
  check_errors({"[]", R"(["username",{"content":"alice"}])", R"("username")", "42", "-1.5e3",
                "null", "true", "false", R"("")", " [ ] "},
               protocol_error::invalid_format);
}

BOOST_AUTO_TEST_CASE(row3_bad_envelope) {
  check_errors(
      {
          "{}",
          R"({"body":{"content":"alice"}})",
          R"({"type":5,"body":{"content":"alice"}})",
          R"({"type":null,"body":{"content":"alice"}})",
          R"({"type":true,"body":{"content":"alice"}})",
          R"({"type":["username"],"body":{"content":"alice"}})",
          R"({"type":{"name":"username"},"body":{"content":"alice"}})",
          R"({"type":"username"})",
          R"({"type":"username","body":"alice"})",
          R"({"type":"username","body":null})",
          R"({"type":"username","body":["alice"]})",
          R"({"type":"username","body":5})",
          R"({"type":"username","body":true})",
          R"({"Type":"username","body":{"content":"alice"}})",
          R"({"type":"username","Body":{"content":"alice"}})",
          // The last duplicate wins, as in the parser.
          R"({"type":"username","body":{"content":"alice"},"body":5})",
          R"({"type":"username","type":7,"body":{"content":"alice"}})",
      },
      protocol_error::invalid_format);
}

BOOST_AUTO_TEST_CASE(row3_leave_still_needs_a_body_object) {
  check_errors({R"({"type":"leave"})", R"({"type":"leave","body":null})",
                R"({"type":"leave","body":"x"})", R"({"type":"leave","body":[]})",
                R"({"type":"leave","body":[{}]})", R"({"type":"leave","body":0})"},
               protocol_error::invalid_format);
}

BOOST_AUTO_TEST_CASE(row3_before_row4) {
  check_errors({R"({"type":"bogus"})", R"({"type":"bogus","body":"x"})",
                R"({"type":"bogus","body":null})", R"({"type":"","body":[]})"},
               protocol_error::invalid_format);
}

BOOST_AUTO_TEST_CASE(row4_unknown_type) {
  check_errors(
      {
          R"({"type":"bogus","body":{"content":"x"}})",
          R"({"type":"USERNAME","body":{"content":"alice"}})",
          R"({"type":"Username","body":{"content":"alice"}})",
          R"({"type":" username","body":{"content":"alice"}})",
          R"({"type":"username ","body":{"content":"alice"}})",
          R"({"type":"Leave","body":{}})",
          R"({"type":"leave\u0000","body":{}})",
          R"({"type":"","body":{"content":"alice"}})",
          R"({"type":"welcome","body":{"content":"x"}})",
          R"({"type":"error","body":{"content":"x"}})",
          R"({"type":"system","body":{"content":"x"}})",
          R"({"type":"pubkey","body":{"content":"x"}})",
      },
      protocol_error::invalid_type);
}

BOOST_AUTO_TEST_CASE(row4_before_row5) {
  check_errors({R"({"type":"bogus","body":{}})", R"({"type":"bogus","body":{"content":5}})",
                R"({"type":"bogus","body":{"content":""}})"},
               protocol_error::invalid_type);
}

BOOST_AUTO_TEST_CASE(row5_bad_content_for_every_command_but_leave) {
  const std::vector<std::string> bodies = {
      "{}",
      R"({"content":null})",
      R"({"content":5})",
      R"({"content":true})",
      R"({"content":[]})",
      R"({"content":["x"]})",
      R"({"content":{}})",
      R"({"content":""})",
      R"({"pubkey":"k"})",
      R"({"Content":"x"})",
      R"({"content":"x","content":""})",
  };
  for (const std::string& type : content_commands) {
    for (const std::string& body : bodies)
      check_error(
          std::string(R"({"type":")").append(type).append(R"(","body":)").append(body) + "}",
          protocol_error::invalid_content);
  }
}

BOOST_AUTO_TEST_CASE(row5_content_of_white_space_is_not_empty) {
  // Trimming is the hub's business; to the decoder "  " is content.
  BOOST_TEST(
      decoded_as<cturn::set_username>(R"({"type":"username","body":{"content":"  "}})").name ==
      "  ");
  BOOST_TEST(decoded_as<cturn::create_room>(R"({"type":"create","body":{"content":" "}})").name ==
             " ");
}

BOOST_AUTO_TEST_CASE(leave_needs_no_content) {
  decoded_as<cturn::leave_room>(R"({"type":"leave","body":{}})");
  decoded_as<cturn::leave_room>(R"({"type":"leave","body":{"content":""}})");
  decoded_as<cturn::leave_room>(R"({"type":"leave","body":{"content":5}})");
  decoded_as<cturn::leave_room>(R"({"type":"leave","body":{"content":"lobby","extra":[1]}})");
  decoded_as<cturn::leave_room>(R"({"body":{},"type":"leave","extra":null})");
}

BOOST_AUTO_TEST_CASE(username_fields) {
  const auto plain = decoded_as<cturn::set_username>(
      R"({"type":"username","body":{"content":"  alice\t"},"extra":1})");
  BOOST_TEST(plain.name == "  alice\t");  // untrimmed: the hub trims
  BOOST_TEST(!plain.public_key.has_value());
  BOOST_TEST(plain.public_key_valid);

  const auto keyed = decoded_as<cturn::set_username>(
      R"({"type":"username","body":{"content":"alice","pubkey":"-----BEGIN KEY-----\nAAA=\n"}})");
  BOOST_REQUIRE(keyed.public_key.has_value());
  BOOST_TEST(*keyed.public_key == "-----BEGIN KEY-----\nAAA=\n");
  BOOST_TEST(keyed.public_key_valid);
}

BOOST_AUTO_TEST_CASE(username_pubkey_limits) {
  const auto empty = decoded_as<cturn::set_username>(username_with_key(R"("")"));
  BOOST_TEST(!empty.public_key.has_value());
  BOOST_TEST(empty.public_key_valid);

  const std::string largest(cturn::max_public_key_bytes, 'k');
  const auto at_limit = decoded_as<cturn::set_username>(username_with_key('"' + largest + '"'));
  BOOST_TEST(at_limit.public_key_valid);
  BOOST_REQUIRE(at_limit.public_key.has_value());
  BOOST_TEST(at_limit.public_key->size() == 16u * 1024u);

  // The limit counts decoded bytes, not escaped JSON text.
  const std::string escaped = '"' + std::string(cturn::max_public_key_bytes - 1, 'k') + "\\n\"";
  const auto escaped_at_limit = decoded_as<cturn::set_username>(username_with_key(escaped));
  BOOST_TEST(escaped_at_limit.public_key_valid);

  const auto too_long = decoded_as<cturn::set_username>(username_with_key('"' + largest + "k\""));
  BOOST_TEST(!too_long.public_key_valid);
}

BOOST_AUTO_TEST_CASE(username_pubkey_not_a_string) {
  for (const char* key : {"null", "5", "true", "{}", R"(["k"])", R"({"pem":"k"})"}) {
    BOOST_TEST_CONTEXT("pubkey: " << key) {
      const auto decoded = decoded_as<cturn::set_username>(username_with_key(key));
      BOOST_TEST(!decoded.public_key_valid);
    }
  }
}

BOOST_AUTO_TEST_CASE(create_and_join_fields) {
  BOOST_TEST(
      decoded_as<cturn::create_room>(R"({"type":"create","body":{"content":" lobby "}})").name ==
      " lobby ");
  BOOST_TEST(decoded_as<cturn::join_room>(
                 R"({"body":{"content":"lo\"bby","x":[]},"type":"join","pubkey":1})")
                 .name == "lo\"bby");
}

BOOST_AUTO_TEST_CASE(message_to_field) {
  const auto broadcast = decoded_as<cturn::send_message>(message_line(R"({"content":"hi"})"));
  BOOST_TEST(!broadcast.to.has_value());

  const auto directed =
      decoded_as<cturn::send_message>(message_line(R"({"content":"hi","to":"bob"})"));
  BOOST_REQUIRE(directed.to.has_value());
  BOOST_TEST(*directed.to == "bob");

  const auto untrimmed =
      decoded_as<cturn::send_message>(message_line(R"({"content":"hi","to":" bob "})"));
  BOOST_REQUIRE(untrimmed.to.has_value());
  BOOST_TEST(*untrimmed.to == " bob ");

  const auto empty = decoded_as<cturn::send_message>(message_line(R"({"content":"hi","to":""})"));
  BOOST_REQUIRE(empty.to.has_value());
  BOOST_TEST(empty.to->empty());

  check_errors(
      {message_line(R"({"content":"hi","to":null})"), message_line(R"({"content":"hi","to":5})"),
       message_line(R"({"content":"hi","to":true})"),
       message_line(R"({"content":"hi","to":["bob"]})"),
       message_line(R"({"content":"hi","to":{"name":"bob"}})")},
      protocol_error::invalid_content);
}

BOOST_AUTO_TEST_CASE(message_body_is_kept_byte_for_byte) {
  const std::vector<std::string> bodies = {
      R"({"content":"hi"})",
      R"({ "content" : "hi" ,  "n" : 1.0e5 , "m":-0.0,"k":1E+2 })",
      R"({"content":"\u00e9\n\"q\"\\ \/ \t","iv":"AAE=","encrypted":true})",
      R"({"content":"}{][,:","arr":[1,{"a":"]"},[],{}],"obj":{"body":{"x":"}"}}})",
      R"({"content":"x","to":"bob","nested":{"to":5}})",
      "{\"content\":\"x\"\t, \"n\":null}",
      R"({"content":"x","big":123456789012345678901234567890,"e":1e400,"tiny":1e-400})",
      R"({"content":"\\","q":"\\\"","end":"\\\\"})",
  };
  for (const std::string& body : bodies) {
    BOOST_TEST_CONTEXT("body: " << cturn::testing::printable(body)) {
      BOOST_TEST(decoded_as<cturn::send_message>(message_line(body)).body == body);
    }
  }
}

// A raw carriage return is JSON white space; the decoder keeps it (the
// encoder turns it into a space, see encode_tests).
BOOST_AUTO_TEST_CASE(message_body_carriage_return_is_kept_as_sent) {
  const auto message = decoded_as<cturn::send_message>(
      "{\"type\":\"message\",\"body\":{\"content\":\"x\"\r,\r\"iv\":1}}");
  BOOST_TEST(message.body == "{\"content\":\"x\"\r,\r\"iv\":1}");
}

BOOST_AUTO_TEST_CASE(message_body_found_wherever_it_is) {
  BOOST_TEST(decoded_as<cturn::send_message>(R"({"body":{"content":"x"},"type":"message"})").body ==
             R"({"content":"x"})");
  BOOST_TEST(decoded_as<cturn::send_message>(
                 R"({"note":"\"body\":{}","type":"message","body" : {"content":"x"} })")
                 .body == R"({"content":"x"})");
  BOOST_TEST(
      decoded_as<cturn::send_message>(
          R"({"x":{"body":{"content":"inner"}},"type":"message","body":{"content":"outer"}})")
          .body == R"({"content":"outer"})");
  BOOST_TEST(decoded_as<cturn::send_message>(
                 " \t{ \"type\" : \"message\" ,\r\"body\"\t:\t{\"content\":\"x\"}\t} ")
                 .body == R"({"content":"x"})");
}

BOOST_AUTO_TEST_CASE(message_duplicate_body_last_wins) {
  const auto twice = decoded_as<cturn::send_message>(
      R"({"type":"message","body":{"content":"first"},"body":{"content":"second"}})");
  BOOST_TEST(twice.body == R"({"content":"second"})");

  // The last `to` wins too, and is read from the body that is relayed.
  const auto to_twice = decoded_as<cturn::send_message>(
      R"({"type":"message","body":{"content":"a","to":"bob"},"body":{"content":"b"}})");
  BOOST_TEST(!to_twice.to.has_value());
  BOOST_TEST(to_twice.body == R"({"content":"b"})");
}

BOOST_AUTO_TEST_CASE(message_escaped_body_key) {
  BOOST_TEST(
      decoded_as<cturn::send_message>(R"({"type":"message","b\u006fdy":{"content":"x"}})").body ==
      R"({"content":"x"})");
  BOOST_TEST(decoded_as<cturn::send_message>(
                 R"({"type":"message","body":{"content":"a"},"b\u006fdy":{"content":"b"}})")
                 .body == R"({"content":"b"})");
  BOOST_TEST(decoded_as<cturn::send_message>(
                 R"({"type":"message","\u0062\u006F\u0064\u0079":{"content":"c"},"bod\u0079x":1})")
                 .body == R"({"content":"c"})");
  BOOST_TEST(
      decoded_as<cturn::send_message>(R"({"t\u0079pe":"message","body":{"content":"d"}})").body ==
      R"({"content":"d"})");
}

BOOST_AUTO_TEST_CASE(huge_numbers_are_accepted) {
  const std::vector<std::string> numbers = {
      "123456789012345678901234567890",
      std::string(400, '9'),
      "1e400",
      "-1e400",
      "1e-400",
      "1E+308",
      "0." + std::string(500, '1'),
      "-0",
      "1e2147483647",
      // Boost.JSON 1.81 reads these as NaN (found by the fuzzer); the relayed
      // text must stay as sent.
      "0e400",
      "-0.0E+999",
  };
  for (const std::string& number : numbers) {
    const std::string body = R"({"content":"x","n":)" + number + "}";
    BOOST_TEST_CONTEXT("number: " << number) {
      BOOST_TEST(decoded_as<cturn::send_message>(message_line(body)).body == body);
    }
  }
}

// Valid JSON (RFC 8259 puts no bound on exponents) that JavaScript's JSON.parse,
// and so the reference server, accepts.
BOOST_AUTO_TEST_CASE(huge_exponents_are_accepted) {
  for (const std::string number :
       {"1e99999999999999999999", "1e-99999999999999999999", "1e2147483648", "-2.5E+9999999999"}) {
    const std::string body = R"({"content":"x","n":)" + number + "}";
    BOOST_TEST_CONTEXT("number: " << number) {
      const auto decoded = cturn::decode(message_line(body));
      BOOST_TEST(decoded.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(nesting_at_and_past_max_json_depth) {
  static_assert(cturn::max_json_depth == 64);
  // The envelope counts as level 1 and the body as level 2.
  const auto at_limit = decoded_as<cturn::send_message>(nested_message(cturn::max_json_depth - 2));
  BOOST_TEST(at_limit.body.size() == std::string(R"({"content":"x","n":})").size() + 2 * 62);
  check_error(nested_message(cturn::max_json_depth - 1), protocol_error::invalid_json);
  check_error(nested_message(10'000), protocol_error::invalid_json);
  // Deep nesting in a value that is not an object is still row 2, not row 3.
  check_error(std::string(65, '[') + std::string(65, ']'), protocol_error::invalid_json);
  check_error(std::string(64, '[') + std::string(64, ']'), protocol_error::invalid_format);
  // Unclosed deep nesting must not crash either.
  check_error(std::string(100'000, '['), protocol_error::invalid_json);
  check_error(R"({"a":)" + std::string(100'000, '{'), protocol_error::invalid_json);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
  const auto decoded = decoded_as<cturn::set_username>(
      R"({"id":1,"type":"username","meta":{"type":"create"},"body":{"content":"a","x":[]},"z":null})");
  BOOST_TEST(decoded.name == "a");
}

BOOST_AUTO_TEST_CASE(large_line_decodes) {
  const std::string content(60'000, 'x');
  const auto decoded =
      decoded_as<cturn::send_message>(message_line(R"({"content":")" + content + "\"}"));
  BOOST_TEST(decoded.body.size() == content.size() + 14);
}

BOOST_AUTO_TEST_SUITE_END()
