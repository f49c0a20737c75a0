#include <boost/test/unit_test.hpp>
#include <string>

#include "expected_frames.hpp"
#include "protocol/notice.hpp"

// Every welcome and system text of the contract, spelled out here once more
// so that a change to the table shows as a failing test.
BOOST_AUTO_TEST_SUITE(notice)

BOOST_AUTO_TEST_CASE(every_text_of_the_contract) {
  using cturn::notice;
  using cturn::testing::system_frame;
  using cturn::testing::welcome_frame;
  const auto text = [](notice kind, std::string_view subject = {}) {
    return std::string(cturn::encode_notice(kind, subject).text());
  };
  BOOST_TEST(text(notice::username_set, "alice") == welcome_frame("Username set to: alice"));
  BOOST_TEST(text(notice::room_created, "lobby") ==
             welcome_frame("Created and joined room: lobby"));
  BOOST_TEST(text(notice::room_joined, "lobby") == welcome_frame("Joined room: lobby"));
  BOOST_TEST(text(notice::room_left, "lobby") == welcome_frame("Left room: lobby"));
  BOOST_TEST(text(notice::member_created_room, "bob") == system_frame("bob created the room"));
  BOOST_TEST(text(notice::member_joined, "bob") == system_frame("bob joined the room"));
  BOOST_TEST(text(notice::member_left, "bob") == system_frame("bob left the room"));
  BOOST_TEST(text(notice::member_disconnected, "bob") == system_frame("bob disconnected"));
  BOOST_TEST(text(notice::shutting_down) == system_frame("Server shutting down"));
  BOOST_TEST(text(notice::unavailable) == system_frame("Server unavailable"));
}

BOOST_AUTO_TEST_CASE(a_subject_is_escaped_as_json) {
  BOOST_TEST(std::string(cturn::encode_notice(cturn::notice::member_joined, "a\"b").text()) ==
             R"({"type":"system","body":{"content":"a\"b joined the room"}})"
             "\n");
}

BOOST_AUTO_TEST_SUITE_END()
