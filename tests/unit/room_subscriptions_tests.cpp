#include <boost/test/unit_test.hpp>

#include "cluster/room_subscriptions.hpp"

BOOST_AUTO_TEST_SUITE(room_subscriptions)

BOOST_AUTO_TEST_CASE(the_last_interest_forgets_the_room) {
  cturn::room_subscriptions rooms;
  rooms.add_interest("lobby");
  rooms.add_interest("lobby");
  BOOST_TEST(!rooms.drop_interest("lobby"));
  BOOST_TEST(rooms.find("lobby") != nullptr);
  BOOST_TEST(rooms.drop_interest("lobby"));
  BOOST_TEST(rooms.find("lobby") == nullptr);
  BOOST_TEST(!rooms.drop_interest("lobby"));  // no room: nothing to leave
}

BOOST_AUTO_TEST_CASE(a_room_entered_again_is_a_new_subscription) {
  cturn::room_subscriptions rooms;
  const std::uint64_t first = rooms.add_interest("lobby").epoch;
  BOOST_TEST(rooms.find("lobby")->local.name == "lobby");
  rooms.drop_interest("lobby");
  const std::uint64_t second = rooms.add_interest("lobby").epoch;
  BOOST_TEST(second != first);
  BOOST_TEST(rooms.answered("lobby", first) == nullptr);
  BOOST_TEST(rooms.answered("lobby", second) == rooms.find("lobby"));
  BOOST_TEST(rooms.answered("elsewhere", second) == nullptr);
}

BOOST_AUTO_TEST_CASE(only_rooms_with_members_here_count) {
  cturn::room_subscriptions rooms;
  rooms.add_interest("lobby");
  rooms.add_interest("empty");
  cturn::local_member alice{.self = nullptr, .name = "alice", .room = nullptr};
  rooms.find("lobby")->local.members.push_back(&alice);
  BOOST_TEST(rooms.rooms_with_members() == 1U);
  rooms.clear();
  BOOST_TEST(rooms.rooms_with_members() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
