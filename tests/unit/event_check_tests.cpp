#include <boost/test/unit_test.hpp>
#include <string>

#include "cluster/event_check.hpp"
#include "cluster/node_channel.hpp"
#include "protocol/encode.hpp"

// What a node accepts from its channels: only what a node could have
// published (event_check.hpp).
namespace {

std::string message(std::string_view sender, std::string_view body) {
  return std::string(cturn::encode_message(sender, body).text());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_check)

BOOST_AUTO_TEST_CASE(the_encoders_own_frames_pass) {
  BOOST_TEST(cturn::is_message_frame_from(message("alice", R"({"content":"hi"})"), "alice"));
  BOOST_TEST(cturn::is_message_frame_from(message("a\"l", "[1, 2.5e3,\t{\"x\":null}]"), "a\"l"));
  // Bodies whose JSON had a raw '\r' between tokens, turned into a space.
  BOOST_TEST(cturn::is_message_frame_from(message("alice", "{\r\"a\":1}"), "alice"));
  BOOST_TEST(cturn::is_message_frame_from(message("ålice", R"("\u001b é")"), "ålice"));
  BOOST_TEST(cturn::is_key_frame_from(std::string(cturn::encode_public_key("bob", "P\nEM").text()),
                                      "bob"));
}

BOOST_AUTO_TEST_CASE(raw_bytes_and_broken_json_fail) {
  const std::string good = message("alice", R"({"c":"hi"})");
  BOOST_TEST(!cturn::is_message_frame_from("\x1b[2J\n", "alice"));
  BOOST_TEST(!cturn::is_message_frame_from(message("alice", "\"\x1b[2J\""), "alice"));
  BOOST_TEST(!cturn::is_message_frame_from(good.substr(0, good.size() - 1), "alice"));  // no '\n'
  BOOST_TEST(!cturn::is_message_frame_from(good.substr(0, good.size() - 2) + "\n", "alice"));
  BOOST_TEST(!cturn::is_message_frame_from(good + good, "alice"));  // two lines
  BOOST_TEST(!cturn::is_message_frame_from(good.substr(0, 10) + "\r" + good.substr(10), "alice"));
  BOOST_TEST(!cturn::is_message_frame_from(message("alice", "{\"c\":\"\xff\"}"), "alice"));
  BOOST_TEST(!cturn::is_message_frame_from("", "alice"));
}

BOOST_AUTO_TEST_CASE(a_frame_must_be_its_senders_and_of_its_kind) {
  const std::string from_alice = message("alice", "{}");
  BOOST_TEST(!cturn::is_message_frame_from(from_alice, "mallory"));
  BOOST_TEST(!cturn::is_key_frame_from(from_alice, "alice"));
  BOOST_TEST(!cturn::is_message_frame_from(
      std::string(cturn::encode_system("alice joined the room").text()), "alice"));
}

BOOST_AUTO_TEST_CASE(events_are_checked_whole) {
  const auto check = [](const std::string& payload) {
    const auto event = cturn::parse_room_event(payload);
    return event && cturn::is_own_event(*event);
  };
  BOOST_TEST(check("C\nalice"));
  BOOST_TEST(check("J\nalice\n\n"));
  BOOST_TEST(check("J\nalice\n" + std::string(cturn::encode_public_key("alice", "K").text())));
  BOOST_TEST(check(cturn::encode_message_event("alice", cturn::encode_message("alice", "{}"),
                                               std::string("bob"))));
  BOOST_TEST(!check("J\nalice\n" + std::string(cturn::encode_public_key("eve", "K").text())));
  BOOST_TEST(!check("L\nal\x1b[2Jice"));
  BOOST_TEST(!check("D\nal\xc2\x9bice"));  // a C1 control
  BOOST_TEST(!check("M\nalice\n" + message("eve", "{}") + "-"));
}

BOOST_AUTO_TEST_CASE(a_node_message_carries_its_room_in_front) {
  const auto split = cturn::split_node_message("lobby\nM\nalice\n{}\n+bob");
  BOOST_REQUIRE(split.has_value());
  BOOST_TEST(split->room == "lobby");
  BOOST_TEST(split->event == "M\nalice\n{}\n+bob");
  BOOST_TEST(!cturn::split_node_message("lobby").has_value());
  BOOST_TEST(!cturn::split_node_message("\nM\nalice").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
