#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/json_text.hpp"

namespace {

// Boost.Test cannot print an optional; compare through a string.
std::string member(std::string_view object, std::string_view key) {
  const auto text = cturn::member_text(object, key);
  return text ? "=" + std::string(*text) : "<none>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(values_of_every_kind) {
  const std::string_view object =
      R"({"s":"text","n":-1.5e3,"t":true,"f":false,"z":null,"a":[1,"]",{}],"o":{"k":"}"}})";
  BOOST_TEST(member(object, "s") == R"(="text")");
  BOOST_TEST(member(object, "n") == "=-1.5e3");
  BOOST_TEST(member(object, "t") == "=true");
  BOOST_TEST(member(object, "f") == "=false");
  BOOST_TEST(member(object, "z") == "=null");
  BOOST_TEST(member(object, "a") == R"(=[1,"]",{}])");
  BOOST_TEST(member(object, "o") == R"(={"k":"}"})");
}

BOOST_AUTO_TEST_CASE(missing_keys) {
  BOOST_TEST(member("{}", "body") == "<none>");
  BOOST_TEST(member(" { } ", "body") == "<none>");
  BOOST_TEST(member(R"({"bod":1,"bodyx":2,"Body":3," body":4})", "body") == "<none>");
  BOOST_TEST(member(R"({"x":{"body":1}})", "body") == "<none>");
  BOOST_TEST(member(R"({"x":[{"body":1}]})", "body") == "<none>");
  BOOST_TEST(member(R"({"x":"\"body\":1"})", "body") == "<none>");
}

BOOST_AUTO_TEST_CASE(not_an_object) {
  BOOST_TEST(member("", "body") == "<none>");
  BOOST_TEST(member("[]", "body") == "<none>");
  BOOST_TEST(member(R"(["body",{"body":1}])", "body") == "<none>");
  BOOST_TEST(member(R"("body")", "body") == "<none>");
  BOOST_TEST(member("42", "body") == "<none>");
}

BOOST_AUTO_TEST_CASE(nested_containers_are_skipped_whole) {
  const std::string_view object =
      R"({"a":{"b":{"c":[[[{"body":"inner"}]]]},"d":"{["},"body":{"x":[{"y":"}]"}]},"e":1})";
  BOOST_TEST(member(object, "body") == R"(={"x":[{"y":"}]"}]})");
  BOOST_TEST(member(object, "e") == "=1");
  BOOST_TEST(member(object, "a") == R"(={"b":{"c":[[[{"body":"inner"}]]]},"d":"{["})");
}

BOOST_AUTO_TEST_CASE(strings_with_braces_and_escaped_quotes) {
  const std::string_view object =
      R"({"k":"a\"}b","body":{"content":"\"{\"","x":"\\","y":"\\\"]"},"z":"\\"})";
  BOOST_TEST(member(object, "k") == R"(="a\"}b")");
  BOOST_TEST(member(object, "body") == R"(={"content":"\"{\"","x":"\\","y":"\\\"]"})");
  BOOST_TEST(member(object, "z") == R"(="\\")");
  BOOST_TEST(member(R"({"a\"body":1,"body":2})", "body") == "=2");
  BOOST_TEST(member(R"({"body\\":1})", "body") == "<none>");
}

BOOST_AUTO_TEST_CASE(white_space_around_tokens) {
  const std::string_view object = " \t{ \"a\" :\n1 ,\r\"body\"\t:\t{ \"c\" : [ 1 , 2 ] }\n}\r";
  BOOST_TEST(member(object, "body") == R"(={ "c" : [ 1 , 2 ] })");
  BOOST_TEST(member(object, "a") == "=1");
  BOOST_TEST(member(R"({"n":12 , "m":3})", "n") == "=12");
  BOOST_TEST(member(R"({"n":12})", "n") == "=12");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_last_wins) {
  BOOST_TEST(member(R"({"body":1,"body":{"x":2}})", "body") == R"(={"x":2})");
  BOOST_TEST(member(R"({"body":{"x":2},"other":0,"body":"last"})", "body") == R"(="last")");
}

BOOST_AUTO_TEST_CASE(escaped_keys) {
  BOOST_TEST(member(R"({"b\u006fdy":{"x":1}})", "body") == R"(={"x":1})");
  BOOST_TEST(member(R"({"body":1,"\u0062ody":2})", "body") == "=2");
  BOOST_TEST(member(R"({"\u0062ody":1,"body":2})", "body") == "=2");
  BOOST_TEST(member(R"({"b\u006fdx":1})", "body") == "<none>");
  BOOST_TEST(member(R"({"bo\/dy":1})", "bo/dy") == "=1");
  BOOST_TEST(member(R"({"a\nb":1})", "a\nb") == "=1");
  BOOST_TEST(member(R"({"\ud83d\ude00":5})", "\xf0\x9f\x98\x80") == "=5");
}

BOOST_AUTO_TEST_CASE(utf8_in_keys_and_values) {
  BOOST_TEST(member("{\"\xc3\xa9\":\"\xe2\x82\xac\"}", "\xc3\xa9") == "=\"\xe2\x82\xac\"");
}

BOOST_AUTO_TEST_SUITE_END()
