#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/room_event.hpp"
#include "protocol/encode.hpp"

using cturn::parse_room_event;
using cturn::room_event;

BOOST_AUTO_TEST_SUITE(room_event_suite)

BOOST_AUTO_TEST_CASE(simple_events_name_their_user) {
  const std::pair<std::string_view, room_event::kind> cases[] = {
      {"C\nalice", room_event::kind::created},
      {"L\nalice", room_event::kind::left},
      {"D\nalice", room_event::kind::disconnected},
  };
  for (const auto& [payload, kind] : cases) {
    const auto event = parse_room_event(payload);
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST((event->type == kind));
    BOOST_TEST(event->user == "alice");
  }
}

BOOST_AUTO_TEST_CASE(joined_carries_the_entrants_key_and_the_others_keys) {
  const std::string own(cturn::encode_public_key("carol", "PEM-C").text());
  const std::string a(cturn::encode_public_key("alice", "PEM\nA").text());
  const std::string b(cturn::encode_public_key("bob", "PEM-B").text());
  const std::string payload = "J\ncarol\n" + own + a + b;
  const auto event = parse_room_event(payload);
  BOOST_REQUIRE(event.has_value());
  BOOST_TEST((event->type == room_event::kind::joined));
  BOOST_TEST(event->user == "carol");
  BOOST_TEST(event->frame == own);
  BOOST_REQUIRE(event->key_frames.size() == 2u);
  BOOST_TEST(event->key_frames[0] == a);
  BOOST_TEST(event->key_frames[1] == b);
}

BOOST_AUTO_TEST_CASE(joined_without_keys) {
  const auto event = parse_room_event("J\ncarol\n\n");
  BOOST_REQUIRE(event.has_value());
  BOOST_TEST(event->frame.empty());
  BOOST_TEST(event->key_frames.empty());
}

BOOST_AUTO_TEST_CASE(messages_round_trip_with_any_recipient_text) {
  const cturn::frame message = cturn::encode_message("alice", R"({"content":"hi"})");
  for (const std::optional<std::string>& to :
       {std::optional<std::string>(), std::optional<std::string>("bob"),
        std::optional<std::string>(""), std::optional<std::string>("a\nb+-")}) {
    const std::string payload = cturn::encode_message_event("alice", message, to);
    const auto event = parse_room_event(payload);
    BOOST_REQUIRE(event.has_value());
    BOOST_TEST((event->type == room_event::kind::message));
    BOOST_TEST(event->user == "alice");
    BOOST_TEST(event->frame == message.text());
    BOOST_TEST(event->to.has_value() == to.has_value());
    if (to)
      BOOST_TEST(*event->to == *to);
  }
}

BOOST_AUTO_TEST_CASE(malformed_payloads_are_refused) {
  for (const std::string_view payload :
       {"", "X\nalice", "C\n", "CC\nalice", "J\ncarol", "J\n\n\n", "J\ncarol\n\n\n",
        "M\nalice\n{}\n", "M\nalice\n{}\n?bob", "M\nalice\n\n-", "M\nalice"}) {
    BOOST_TEST_CONTEXT("payload " << payload) {
      BOOST_TEST(!parse_room_event(payload).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(resume_events) {
  const std::string key(cturn::encode_public_key("alice", "PEM-A2").text());
  const std::string payload = "K\nalice\n" + key;  // the event's views point into it
  const auto changed = parse_room_event(payload);
  BOOST_REQUIRE(changed.has_value());
  BOOST_TEST((changed->type == room_event::kind::key_changed));
  BOOST_TEST(changed->user == "alice");
  BOOST_TEST(changed->frame == key);
  const auto moved = parse_room_event("T\nalice\n0123abcd");
  BOOST_REQUIRE(moved.has_value());
  BOOST_TEST((moved->type == room_event::kind::taken_over));
  BOOST_TEST(moved->user == "alice");
  BOOST_TEST(moved->node == "0123abcd");
  for (const std::string& bad :
       std::vector<std::string>{"K\nalice", "K\nalice\n\n", "K\nalice\n" + key + "x", "T\nalice",
                                "T\nalice\n", "T\n\nnode"}) {
    BOOST_TEST(!parse_room_event(bad).has_value(), bad);
  }
  // A node's channel is a "room" no room can be: room names hold no '\n'.
  BOOST_TEST(cturn::node_channel_room("0123abcd") == "\n0123abcd");
}

BOOST_AUTO_TEST_SUITE_END()
