#include <boost/test/unit_test.hpp>
#include <deque>
#include <string>
#include <vector>

#include "expected_frames.hpp"
#include "fake_participant.hpp"
#include "hub/room_fanout.hpp"
#include "protocol/encode.hpp"

// The event -> frames step both hubs share: driven here with members that are
// "served here" (fake participants) and users that are not (names only), as a
// cluster node sees a room.
namespace {

using cturn::testing::fake_participant;
using cturn::testing::message_frame;
using cturn::testing::pubkey_frame;
using cturn::testing::system_frame;
using cturn::testing::welcome_frame;
using frames = std::vector<std::string>;
namespace fanout = cturn::room_fanout;

struct room_fixture {
  cturn::local_room room{.name = "lobby", .members = {}};
  std::deque<fake_participant> sockets;
  std::deque<cturn::local_member> members;

  cturn::local_member& served(const std::string& name) {
    fake_participant& socket = sockets.emplace_back(sockets.size() + 1);
    return members.emplace_back(
        cturn::local_member{.self = &socket, .name = name, .room = nullptr});
  }
  // A member already in the room.
  cturn::local_member& seated(const std::string& name) {
    cturn::local_member& member = served(name);
    room.members.push_back(&member);
    member.room = &room;
    return member;
  }
  static fake_participant& socket_of(const cturn::local_member& member) {
    return static_cast<fake_participant&>(*member.self);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(room_fanout, room_fixture)

BOOST_AUTO_TEST_CASE(a_local_creator_gets_its_welcome_then_the_room_notice) {
  cturn::local_member& alice = served("alice");
  fanout::created(room, "alice", &alice);
  BOOST_TEST(socket_of(alice).take() == (frames{welcome_frame("Created and joined room: lobby"),
                                                system_frame("alice created the room")}),
             boost::test_tools::per_element());
  BOOST_TEST(room.members == std::vector<cturn::local_member*>{&alice});
  BOOST_TEST(alice.room == &room);
}

BOOST_AUTO_TEST_CASE(a_remote_creator_is_only_announced) {
  cturn::local_member& bob = seated("bob");
  fanout::created(room, "alice", nullptr);
  BOOST_TEST(socket_of(bob).take() == frames{system_frame("alice created the room")});
  BOOST_TEST(room.members.size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_join_exchanges_keys_in_order_of_entry) {
  cturn::local_member& bob = seated("bob");
  cturn::local_member& carol = seated("carol");
  cturn::local_member& alice = served("alice");
  const cturn::frame alice_key = cturn::encode_public_key("alice", "A");
  const std::vector<cturn::frame> keys{cturn::encode_public_key("bob", "B"),
                                       cturn::encode_public_key("carol", "C")};
  fanout::joined(room, "alice", &alice_key, &alice, keys);

  const frames heard{system_frame("alice joined the room"), pubkey_frame("alice", "A")};
  BOOST_TEST(socket_of(bob).take() == heard, boost::test_tools::per_element());
  BOOST_TEST(socket_of(carol).take() == heard, boost::test_tools::per_element());
  BOOST_TEST(
      socket_of(alice).take() == (frames{welcome_frame("Joined room: lobby"),
                                         pubkey_frame("bob", "B"), pubkey_frame("carol", "C")}),
      boost::test_tools::per_element());
  BOOST_TEST(room.members == (std::vector<cturn::local_member*>{&bob, &carol, &alice}),
             boost::test_tools::per_element());
  BOOST_TEST(alice.room == &room);
}

BOOST_AUTO_TEST_CASE(a_keyless_remote_entrant_is_only_announced) {
  cturn::local_member& bob = seated("bob");
  fanout::joined(room, "alice", nullptr, nullptr, {});
  BOOST_TEST(socket_of(bob).take() == frames{system_frame("alice joined the room")});
  BOOST_TEST(room.members.size() == 1U);
}

BOOST_AUTO_TEST_CASE(an_entrant_is_a_member_even_when_a_notice_throws) {
  cturn::local_member& bob = seated("bob");
  cturn::local_member& alice = served("alice");
  socket_of(bob).deliveries_throw = true;
  BOOST_CHECK_THROW(fanout::joined(room, "alice", nullptr, &alice, {}), std::bad_alloc);
  BOOST_TEST(room.members.size() == 2U);
  BOOST_TEST(alice.room == &room);
}

BOOST_AUTO_TEST_CASE(a_leaver_gets_its_welcome_after_the_room_hears_it) {
  cturn::local_member& bob = seated("bob");
  cturn::local_member& alice = seated("alice");
  fanout::remove(room, alice);
  BOOST_TEST(alice.room == nullptr);
  fanout::announce_exit(room.members, room.name, "alice", fanout::exit_kind::left, alice.self);
  BOOST_TEST(socket_of(bob).take() == frames{system_frame("alice left the room")});
  BOOST_TEST(socket_of(alice).take() == frames{welcome_frame("Left room: lobby")});
}

BOOST_AUTO_TEST_CASE(a_disconnect_is_told_to_the_room_only) {
  cturn::local_member& bob = seated("bob");
  fanout::announce_exit(room.members, room.name, "alice", fanout::exit_kind::disconnected, nullptr);
  BOOST_TEST(socket_of(bob).take() == frames{system_frame("alice disconnected")});
}

BOOST_AUTO_TEST_CASE(the_last_leaver_still_gets_its_welcome) {
  cturn::local_member& alice = seated("alice");
  fanout::remove(room, alice);
  fanout::announce_exit(room.members, room.name, "alice", fanout::exit_kind::left, alice.self);
  BOOST_TEST(socket_of(alice).take() == frames{welcome_frame("Left room: lobby")});
  BOOST_TEST(room.members.empty());
}

BOOST_AUTO_TEST_CASE(a_broadcast_reaches_every_member_but_its_sender) {
  cturn::local_member& alice = seated("alice");
  cturn::local_member& bob = seated("bob");
  const cturn::frame message = cturn::encode_message("alice", R"({"m":1})");
  fanout::broadcast_message(room, &alice, message);
  BOOST_TEST(socket_of(alice).take().empty());
  BOOST_TEST(socket_of(bob).take() == frames{message_frame("alice", R"({"m":1})")});
  // From a sender served elsewhere: every local member.
  fanout::broadcast_message(room, nullptr, message);
  BOOST_TEST(socket_of(alice).take().size() == 1U);
  BOOST_TEST(socket_of(bob).take().size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_directed_message_reaches_only_a_member_of_this_room) {
  cturn::local_member& alice = seated("alice");
  cturn::local_member& bob = seated("bob");
  cturn::local_member& elsewhere = served("carol");  // registered, in no room here
  const cturn::frame message = cturn::encode_message("alice", R"({"m":1})");
  fanout::direct_message(room, &bob, message);
  fanout::direct_message(room, &elsewhere, message);
  fanout::direct_message(room, nullptr, message);
  BOOST_TEST(socket_of(bob).take() == frames{message_frame("alice", R"({"m":1})")});
  BOOST_TEST(socket_of(alice).take().empty());
  BOOST_TEST(socket_of(elsewhere).take().empty());
  // To oneself: delivered, as the original server does.
  fanout::direct_message(room, &alice, message);
  BOOST_TEST(socket_of(alice).take().size() == 1U);
}

BOOST_AUTO_TEST_SUITE_END()
