#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <deque>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "expected_frames.hpp"
#include "fake_participant.hpp"
#include "hub/room_hub.hpp"
#include "protocol/decode.hpp"
#include "test_print.hpp"

namespace {

using cturn::testing::fake_participant;
using frames = std::vector<std::string>;

using cturn::testing::error_frame;
using cturn::testing::message_frame;
using cturn::testing::pubkey_frame;
using cturn::testing::system_frame;
using cturn::testing::welcome_frame;

cturn::set_username username(std::string name, std::optional<std::string> key = std::nullopt) {
  return {.name = std::move(name), .public_key = std::move(key)};
}
// The body is a view: callers pass text that outlives the command.
cturn::send_message say(std::string_view body) {
  return {.body = body, .to = std::nullopt};
}
cturn::send_message say(std::string_view body, std::string to) {
  cturn::send_message message{.body = body, .to = std::nullopt};
  message.to.emplace(std::move(to));
  return message;
}

struct hub_fixture {
  cturn::room_hub hub;
  cturn::testing::journal events;
  std::deque<fake_participant> clients;  // stable addresses
  std::uint64_t next_id = 1;

  fake_participant& connect() {
    fake_participant& client = clients.emplace_back(next_id++, &events);
    BOOST_REQUIRE(hub.connect(client));
    return client;
  }

  // A connected client registered as `name`, its welcome already taken.
  fake_participant& user(const std::string& name, std::optional<std::string> key = std::nullopt) {
    fake_participant& client = connect();
    hub.handle(client, username(name, std::move(key)));
    BOOST_REQUIRE(client.take() == frames{welcome_frame("Username set to: " + name)});
    events.clear();
    return client;
  }

  // `members` registered and in `room` (the first creates it); no frames pending.
  void room_with(const std::string& room, const std::vector<fake_participant*>& members) {
    bool first = true;
    for (fake_participant* member : members) {
      if (first) {
        hub.handle(*member, cturn::create_room{room});
      } else {
        hub.handle(*member, cturn::join_room{room});
      }
      first = false;
    }
    forget_frames();
  }

  void send(fake_participant& client, cturn::command command) {
    hub.handle(client, std::move(command));
  }

  // The way a session feeds the hub: decode, then handle or reject.
  void send_line(fake_participant& client, std::string_view line) {
    auto decoded = cturn::decode(line);
    if (decoded) {
      hub.handle(client, std::move(*decoded));
    } else {
      hub.reject(client, decoded.error());
    }
  }

  void forget_frames() {
    for (fake_participant& client : clients)
      client.take();
    events.clear();
  }

  // Every delivery since the last forget_frames(), in order, as "<id> <frame>".
  frames history() const {
    frames out;
    for (const auto& entry : events)
      out.push_back(std::to_string(entry.id) + " " + entry.bytes);
    return out;
  }

  std::vector<std::string> members(const std::string& room) const {
    return hub.room_members(room).value_or(std::vector<std::string>{"<no such room>"});
  }
};

std::string seen_by(const fake_participant& client, const std::string& bytes) {
  return std::to_string(client.connection_id()) + " " + bytes;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(room_hub, hub_fixture)

// --- username -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(username_success) {
  fake_participant& client = connect();
  BOOST_TEST(client.frames.empty());
  send(client, username("alice"));
  BOOST_TEST(client.take() == frames{welcome_frame("Username set to: alice")});
  BOOST_TEST(hub.username_in_use("alice"));
  BOOST_TEST(hub.connection_count() == 1u);
  BOOST_TEST(client.close_requests == 0);
  BOOST_TEST(client.registrations == 1);
}

BOOST_AUTO_TEST_CASE(only_a_welcome_ends_the_registration_deadline) {
  fake_participant& client = connect();
  send(client, username(" "));
  send(client, username(std::string(40, 'x')));
  BOOST_TEST(client.registrations == 0);
  send(client, username("alice"));
  send(client, username("again"));
  BOOST_TEST(client.registrations == 1);
}

BOOST_AUTO_TEST_CASE(username_is_trimmed) {
  fake_participant& client = connect();
  send(client, username(" \t\r\n\v\falice \f"));
  BOOST_TEST(client.take() == frames{welcome_frame("Username set to: alice")});
  BOOST_TEST(hub.username_in_use("alice"));
  BOOST_TEST(!hub.username_in_use(" \t\r\n\v\falice \f"));
}

BOOST_AUTO_TEST_CASE(username_already_set_comes_first) {
  fake_participant& alice = user("alice");
  user("bob");
  for (cturn::set_username again :
       {username("carol"), username("alice"), username("bob"), username("   "),
        username(std::string(40, 'x')),
        cturn::set_username{
            .name = "dave", .public_key = std::nullopt, .public_key_valid = false}}) {
    send(alice, std::move(again));
    BOOST_TEST(alice.take() == frames{error_frame("Username already set")});
  }
  BOOST_TEST(!hub.username_in_use("carol"));
}

BOOST_AUTO_TEST_CASE(username_empty) {
  fake_participant& client = connect();
  send(client, username(" \t "));
  BOOST_TEST(client.take() == frames{error_frame("Username cannot be empty")});
  // Still unregistered: it may try again.
  send(client, cturn::create_room{"r"});
  BOOST_TEST(client.take() == frames{error_frame("You must set a username first")});
  send(client, username("alice"));
  BOOST_TEST(client.take() == frames{welcome_frame("Username set to: alice")});
}

BOOST_AUTO_TEST_CASE(username_invalid) {
  fake_participant& client = connect();
  for (const std::string& bad :
       {std::string(33, 'a'),
        std::string("a\x01"
                    "b"),
        std::string("a\x7f"), std::string("a\xc2\x80"), std::string("tab\tinside")}) {
    send(client, username(bad));
    BOOST_TEST(client.take() == frames{error_frame("Invalid username")});
  }
  send(client, username(std::string(32, 'a')));
  BOOST_TEST(client.take() == frames{welcome_frame("Username set to: " + std::string(32, 'a'))});
}

BOOST_AUTO_TEST_CASE(username_taken) {
  user("alice");
  fake_participant& bob = connect();
  for (const char* taken : {"alice", "  alice", "alice\n"}) {
    send(bob, username(taken));
    BOOST_TEST(bob.take() == frames{error_frame("Username already taken")});
  }
  send(bob, username("Alice"));  // case-sensitive
  BOOST_TEST(bob.take() == frames{welcome_frame("Username set to: Alice")});
}

BOOST_AUTO_TEST_CASE(username_rules_in_order) {
  user("alice");
  fake_participant& client = connect();
  const auto bad_key = [](std::string name) {
    return cturn::set_username{
        .name = std::move(name), .public_key = std::nullopt, .public_key_valid = false};
  };
  send(client, bad_key("  "));
  BOOST_TEST(client.take() == frames{error_frame("Username cannot be empty")});
  send(client, bad_key(std::string(33, 'a')));
  BOOST_TEST(client.take() == frames{error_frame("Invalid username")});
  send(client, bad_key("alice"));
  BOOST_TEST(client.take() == frames{error_frame("Username already taken")});
  send(client, bad_key("bob"));
  BOOST_TEST(client.take() == frames{error_frame("Invalid public key")});
  BOOST_TEST(!hub.username_in_use("bob"));  // not registered
  send(client, username("bob", "KEY"));
  BOOST_TEST(client.take() == frames{welcome_frame("Username set to: bob")});
}

BOOST_AUTO_TEST_CASE(username_freed_after_disconnect) {
  fake_participant& alice = user("alice");
  fake_participant& bob = connect();
  send(bob, username("alice"));
  BOOST_TEST(bob.take() == frames{error_frame("Username already taken")});
  hub.disconnect(alice, cturn::disconnect_reason::eof);
  BOOST_TEST(!hub.username_in_use("alice"));
  send(bob, username("alice"));
  BOOST_TEST(bob.take() == frames{welcome_frame("Username set to: alice")});
}

BOOST_AUTO_TEST_CASE(comings_and_goings_are_logged_through_the_participant) {
  // The session picks their level (a health check's at debug): the hub
  // only says what happened.
  using event = cturn::chatter_event;
  using events_of = std::vector<event>;
  fake_participant& alice = connect();
  fake_participant& bob = connect();
  send(alice, username("alice"));
  send(bob, username("alice"));  // refused: no line
  BOOST_TEST(alice.chatter == events_of{event::username}, boost::test_tools::per_element());
  BOOST_TEST(bob.chatter.empty());
  hub.disconnect(alice, cturn::disconnect_reason::eof);
  hub.fail(bob, cturn::protocol_error::message_too_long);
  BOOST_TEST(alice.chatter == (events_of{event::username, event::disconnect}),
             boost::test_tools::per_element());
  BOOST_TEST(bob.chatter == events_of{event::disconnect}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_look_alike_of_a_name_in_use_is_taken) {
  user("paypal");
  fake_participant& impostor = connect();
  send(impostor, username("p\u0430ypal"));  // Cyrillic а
  BOOST_TEST(impostor.take() == frames{error_frame("Username already taken")});
  BOOST_TEST(!hub.username_in_use("p\u0430ypal"));
  // The look-alike first: the original is refused as well.
  user("rnallory");
  send(impostor, username("mallory"));
  BOOST_TEST(impostor.take() == frames{error_frame("Username already taken")});
}

BOOST_AUTO_TEST_CASE(a_look_alike_is_free_once_the_name_is_given_up) {
  fake_participant& original = user("paypal");
  fake_participant& other = connect();
  hub.disconnect(original, cturn::disconnect_reason::eof);
  send(other, username("p\u0430ypal"));
  BOOST_TEST(other.take() == frames{welcome_frame("Username set to: p\u0430ypal")});
}

BOOST_AUTO_TEST_CASE(username_required_for_every_other_command) {
  user("alice");
  fake_participant& client = connect();
  for (cturn::command request :
       {cturn::command{cturn::create_room{"r"}}, cturn::command{cturn::join_room{"r"}},
        cturn::command{cturn::leave_room{}}, cturn::command{say(R"({"content":"hi"})")},
        cturn::command{say(R"({"content":"hi"})", "alice")}}) {
    send(client, std::move(request));
    BOOST_TEST(client.take() == frames{error_frame("You must set a username first")});
  }
  // Even a command that would fail for another reason.
  send(client, cturn::create_room{std::string(100, 'r')});
  BOOST_TEST(client.take() == frames{error_frame("You must set a username first")});
  BOOST_TEST(hub.room_count() == 0u);
}

BOOST_AUTO_TEST_CASE(decode_errors_go_through_reject) {
  fake_participant& client = connect();
  send_line(client, "not json");
  send_line(client, "[]");
  send_line(client, R"({"type":"x","body":{}})");
  send_line(client, R"({"type":"join","body":{}})");
  send_line(client, R"({"type":"join","body":{"content":"r"}})");
  send_line(client, R"({"type":"username","body":{"content":"alice"}})");
  BOOST_TEST(client.take() ==
             (frames{error_frame("Invalid JSON format"), error_frame("Invalid message format"),
                     error_frame("Invalid message type"), error_frame("Invalid message content"),
                     error_frame("You must set a username first"),
                     welcome_frame("Username set to: alice")}));
  BOOST_TEST(client.close_requests == 0);
}

// --- create ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(create_room) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  send(alice, cturn::create_room{"  lobby "});
  BOOST_TEST(alice.take() == (frames{welcome_frame("Created and joined room: lobby"),
                                     system_frame("alice created the room")}));
  BOOST_TEST(bob.frames.empty());
  BOOST_TEST(hub.room_count() == 1u);
  BOOST_TEST(members("lobby") == std::vector<std::string>{"alice"});
}

BOOST_AUTO_TEST_CASE(create_with_a_key_sends_no_key_frames) {
  fake_participant& alice = user("alice", "KA");
  send(alice, cturn::create_room{"r"});
  BOOST_TEST(alice.take() == (frames{welcome_frame("Created and joined room: r"),
                                     system_frame("alice created the room")}));
}

BOOST_AUTO_TEST_CASE(create_errors) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  for (const std::string& bad : {std::string(), std::string("  "), std::string(65, 'r'),
                                 std::string("a\x1f"
                                             "b")}) {
    send(alice, cturn::create_room{bad});
    BOOST_TEST(alice.take() == frames{error_frame("Invalid room name")});
  }
  send(alice, cturn::create_room{std::string(64, 'r')});
  BOOST_TEST(alice.take().size() == 2u);
  send(bob, cturn::create_room{std::string(64, 'r')});
  BOOST_TEST(bob.take() == frames{error_frame("Room already exists")});
  send(bob, cturn::create_room{" " + std::string(64, 'r')});
  BOOST_TEST(bob.take() == frames{error_frame("Room already exists")});
  // In a room: that comes before the name checks.
  for (const std::string& name :
       {std::string("other"), std::string(64, 'r'), std::string(65, 'r')}) {
    send(alice, cturn::create_room{name});
    BOOST_TEST(alice.take() == frames{error_frame("Leave current room first")});
  }
  BOOST_TEST(hub.room_count() == 1u);
  BOOST_TEST(alice.close_requests == 0);
}

BOOST_AUTO_TEST_CASE(a_look_alike_of_a_room_exists_but_is_not_that_room) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("lobby", {&alice});
  for (const std::string look_alike : {"lobb\u0443", "I\u043Ebby", "l\u03BFbby"}) {
    BOOST_TEST_CONTEXT(look_alike.size() << " bytes") {
      send(bob, cturn::create_room{look_alike});
      BOOST_TEST(bob.take() == frames{error_frame("Room already exists")});
      send(bob, cturn::join_room{look_alike});
      BOOST_TEST(bob.take() == frames{error_frame("Room does not exist")});
    }
  }
  BOOST_TEST(hub.room_count() == 1u);
  BOOST_TEST(alice.take().empty());
}

BOOST_AUTO_TEST_CASE(a_look_alike_room_name_is_free_once_the_room_is_gone) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("lobby", {&alice});
  send(alice, cturn::leave_room{});
  alice.take();
  send(bob, cturn::create_room{"lobb\u0443"});
  BOOST_TEST(bob.take().size() == 2u);
  // And the original is now the look-alike.
  send(alice, cturn::create_room{"lobby"});
  BOOST_TEST(alice.take() == frames{error_frame("Room already exists")});
  hub.disconnect(bob, cturn::disconnect_reason::eof);
  send(alice, cturn::create_room{"lobby"});
  BOOST_TEST(alice.take().size() == 2u);
}

// --- join -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(join_room) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  fake_participant& outsider = user("dave");
  room_with("r", {&alice});
  send(bob, cturn::join_room{"r"});
  BOOST_TEST(bob.take() == frames{welcome_frame("Joined room: r")});
  BOOST_TEST(alice.take() == frames{system_frame("bob joined the room")});
  send(carol, cturn::join_room{" r\t"});
  BOOST_TEST(carol.take() == frames{welcome_frame("Joined room: r")});
  BOOST_TEST(alice.take() == frames{system_frame("carol joined the room")});
  BOOST_TEST(bob.take() == frames{system_frame("carol joined the room")});
  BOOST_TEST(outsider.frames.empty());
  BOOST_TEST(members("r") == (std::vector<std::string>{"alice", "bob", "carol"}));
}

BOOST_AUTO_TEST_CASE(join_key_exchange) {
  fake_participant& alice = user("alice", "KA");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol", "KC");
  fake_participant& dave = user("dave", "-----BEGIN-----\nD\n");
  room_with("r", {&alice, &bob});

  // The room first, then the entrant (room_fanout::joined, as in a cluster);
  // each client's own order is what the protocol fixes.
  send(carol, cturn::join_room{"r"});
  BOOST_TEST(history() == (frames{
                              seen_by(alice, system_frame("carol joined the room")),
                              seen_by(bob, system_frame("carol joined the room")),
                              seen_by(alice, pubkey_frame("carol", "KC")),
                              seen_by(bob, pubkey_frame("carol", "KC")),
                              seen_by(carol, welcome_frame("Joined room: r")),
                              seen_by(carol, pubkey_frame("alice", "KA")),
                          }));
  forget_frames();

  send(dave, cturn::join_room{"r"});
  BOOST_TEST(dave.take() == (frames{welcome_frame("Joined room: r"), pubkey_frame("alice", "KA"),
                                    pubkey_frame("carol", "KC")}));
  const std::string dave_key = pubkey_frame("dave", "-----BEGIN-----\\nD\\n");
  BOOST_TEST(alice.take() == (frames{system_frame("dave joined the room"), dave_key}));
  BOOST_TEST(bob.take() == (frames{system_frame("dave joined the room"), dave_key}));
  BOOST_TEST(carol.take() == (frames{system_frame("dave joined the room"), dave_key}));
}

BOOST_AUTO_TEST_CASE(keyless_joiner_gets_keys_but_sends_none) {
  fake_participant& alice = user("alice", "KA");
  fake_participant& bob = user("bob");
  room_with("r", {&alice});
  send(bob, cturn::join_room{"r"});
  BOOST_TEST(bob.take() == (frames{welcome_frame("Joined room: r"), pubkey_frame("alice", "KA")}));
  BOOST_TEST(alice.take() == frames{system_frame("bob joined the room")});
}

BOOST_AUTO_TEST_CASE(join_errors) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice});
  room_with("s", {&bob});
  for (const std::string& name : {std::string("r"), std::string("s"), std::string("nope"),
                                  std::string(65, 'x'), std::string()}) {
    send(alice, cturn::join_room{name});
    BOOST_TEST(alice.take() == frames{error_frame("Leave current room first")});
  }
  fake_participant& carol = user("carol");
  for (const std::string& bad : {std::string(65, 'x'), std::string(" "), std::string("a\x7f")}) {
    send(carol, cturn::join_room{bad});
    BOOST_TEST(carol.take() == frames{error_frame("Invalid room name")});
  }
  send(carol, cturn::join_room{"nope"});
  BOOST_TEST(carol.take() == frames{error_frame("Room does not exist")});
  send(carol, cturn::join_room{"R"});
  BOOST_TEST(carol.take() == frames{error_frame("Room does not exist")});
  BOOST_TEST(alice.frames.empty());
  BOOST_TEST(bob.frames.empty());
  BOOST_TEST(members("r") == std::vector<std::string>{"alice"});
}

// --- leave ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(leave_room) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  room_with("r", {&alice, &bob, &carol});
  send(bob, cturn::leave_room{});
  BOOST_TEST(history() == (frames{
                              seen_by(alice, system_frame("bob left the room")),
                              seen_by(carol, system_frame("bob left the room")),
                              seen_by(bob, welcome_frame("Left room: r")),
                          }));
  BOOST_TEST(members("r") == (std::vector<std::string>{"alice", "carol"}));
  forget_frames();
  // Gone from the room: no longer receives its messages.
  send(alice, say(R"({"content":"hi"})"));
  BOOST_TEST(bob.frames.empty());
  BOOST_TEST(carol.take() == frames{message_frame("alice", R"({"content":"hi"})")});
}

BOOST_AUTO_TEST_CASE(leave_when_not_in_a_room) {
  fake_participant& alice = user("alice");
  send(alice, cturn::leave_room{});
  BOOST_TEST(alice.take() == frames{error_frame("Not in any room")});
  room_with("r", {&alice});
  send(alice, cturn::leave_room{});
  send(alice, cturn::leave_room{});
  BOOST_TEST(alice.take() ==
             (frames{welcome_frame("Left room: r"), error_frame("Not in any room")}));
}

BOOST_AUTO_TEST_CASE(empty_room_is_deleted) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  send(alice, cturn::leave_room{});
  BOOST_TEST(hub.room_count() == 1u);
  send(bob, cturn::leave_room{});
  BOOST_TEST(bob.take() ==
             (frames{system_frame("alice left the room"), welcome_frame("Left room: r")}));
  BOOST_TEST(hub.room_count() == 0u);
  BOOST_TEST(!hub.room_members("r").has_value());
  send(alice, cturn::join_room{"r"});
  BOOST_TEST(alice.take() ==
             (frames{welcome_frame("Left room: r"), error_frame("Room does not exist")}));
  // The name can be used again.
  send(bob, cturn::create_room{"r"});
  BOOST_TEST(bob.take() == (frames{welcome_frame("Created and joined room: r"),
                                   system_frame("bob created the room")}));
  BOOST_TEST(members("r") == std::vector<std::string>{"bob"});
}

BOOST_AUTO_TEST_CASE(leave_then_join_another_room) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice});
  room_with("s", {&bob});
  send(alice, cturn::leave_room{});
  send(alice, cturn::join_room{"s"});
  BOOST_TEST(alice.take() ==
             (frames{welcome_frame("Left room: r"), welcome_frame("Joined room: s")}));
  BOOST_TEST(bob.take() == frames{system_frame("alice joined the room")});
  BOOST_TEST(hub.room_count() == 1u);
}

// --- message --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(message_needs_a_room) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&bob});
  send(alice, say(R"({"content":"hi"})"));
  send(alice, say(R"({"content":"hi"})", "bob"));
  BOOST_TEST(alice.take() == (frames{error_frame("You must join a room first"),
                                     error_frame("You must join a room first")}));
  BOOST_TEST(bob.frames.empty());
}

BOOST_AUTO_TEST_CASE(broadcast_excludes_the_sender) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  fake_participant& elsewhere = user("dave");
  fake_participant& lobby = user("erin");
  room_with("r", {&alice, &bob, &carol});
  room_with("s", {&elsewhere});
  const std::string body = R"({ "content" : "hi", "iv":"AA==", "n":1.0e5 })";
  send(bob, say(body));
  const std::string expected = message_frame("bob", body);
  BOOST_TEST(history() == (frames{seen_by(alice, expected), seen_by(carol, expected)}));
  BOOST_TEST(elsewhere.frames.empty());
  BOOST_TEST(lobby.frames.empty());
}

BOOST_AUTO_TEST_CASE(message_alone_in_a_room_reaches_nobody) {
  fake_participant& alice = user("alice");
  room_with("r", {&alice});
  send(alice, say(R"({"content":"hi"})"));
  BOOST_TEST(events.empty());
}

BOOST_AUTO_TEST_CASE(directed_messages) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  fake_participant& dave = user("dave");
  user("erin");
  room_with("r", {&alice, &bob, &carol});
  room_with("s", {&dave});

  const std::string body = R"({"content":"for bob","to":"bob"})";
  send(alice, say(body, "bob"));
  BOOST_TEST(history() == frames{seen_by(bob, message_frame("alice", body))});
  forget_frames();

  // Not in the room, in another room, unknown, wrong case, empty: dropped
  // without an error.
  for (const char* name : {"dave", "erin", "nobody", "Bob", " bob", ""}) {
    send(alice, say(R"({"content":"x"})", name));
    BOOST_TEST(events.empty(), name);
  }

  // To oneself: the one echo there is.
  send(alice, say(R"({"content":"me","to":"alice"})", "alice"));
  BOOST_TEST(history() ==
             frames{seen_by(alice, message_frame("alice", R"({"content":"me","to":"alice"})"))});
}

BOOST_AUTO_TEST_CASE(directed_to_someone_who_left) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  send(bob, cturn::leave_room{});
  room_with("s", {&bob});
  send(alice, say(R"({"content":"x"})", "bob"));
  BOOST_TEST(events.empty());
  hub.disconnect(bob, cturn::disconnect_reason::eof);
  send(alice, say(R"({"content":"x"})", "bob"));
  BOOST_TEST(events.empty());
}

BOOST_AUTO_TEST_CASE(room_sees_one_order) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  room_with("r", {&alice, &bob, &carol});
  send(alice, say(R"({"content":"1"})"));
  send(bob, say(R"({"content":"2"})"));
  send(carol, say(R"({"content":"3"})"));
  send(alice, say(R"({"content":"4"})"));
  BOOST_TEST(alice.take() == (frames{message_frame("bob", R"({"content":"2"})"),
                                     message_frame("carol", R"({"content":"3"})")}));
  BOOST_TEST(bob.take() == (frames{message_frame("alice", R"({"content":"1"})"),
                                   message_frame("carol", R"({"content":"3"})"),
                                   message_frame("alice", R"({"content":"4"})")}));
  BOOST_TEST(carol.take() == (frames{message_frame("alice", R"({"content":"1"})"),
                                     message_frame("bob", R"({"content":"2"})"),
                                     message_frame("alice", R"({"content":"4"})")}));
}

BOOST_AUTO_TEST_CASE(message_body_relayed_from_the_line) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  send_line(alice, R"({"type":"message","body": {"content":"\u00e9","x":[1, 2.50]} ,"id":7})");
  BOOST_TEST(bob.take() == frames{message_frame("alice", R"({"content":"\u00e9","x":[1, 2.50]})")});
}

// --- disconnect -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(disconnect_notifies_the_room_and_frees_the_name) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  room_with("r", {&alice, &bob, &carol});
  hub.disconnect(bob, cturn::disconnect_reason::eof);
  BOOST_TEST(history() == (frames{seen_by(alice, system_frame("bob disconnected")),
                                  seen_by(carol, system_frame("bob disconnected"))}));
  BOOST_TEST(members("r") == (std::vector<std::string>{"alice", "carol"}));
  BOOST_TEST(!hub.username_in_use("bob"));
  BOOST_TEST(hub.connection_count() == 2u);
  BOOST_TEST(bob.close_requests == 0);
}

BOOST_AUTO_TEST_CASE(disconnect_deletes_an_empty_room) {
  fake_participant& alice = user("alice");
  room_with("r", {&alice});
  hub.disconnect(alice, cturn::disconnect_reason::reset);
  BOOST_TEST(events.empty());
  BOOST_TEST(hub.room_count() == 0u);
  BOOST_TEST(hub.connection_count() == 0u);
  fake_participant& again = user("alice");
  send(again, cturn::create_room{"r"});
  BOOST_TEST(again.take().size() == 2u);
}

BOOST_AUTO_TEST_CASE(disconnect_outside_a_room_and_unregistered) {
  fake_participant& alice = user("alice");
  fake_participant& anonymous = connect();
  hub.disconnect(anonymous, cturn::disconnect_reason::eof);
  hub.disconnect(alice, cturn::disconnect_reason::eof);
  BOOST_TEST(events.empty());
  BOOST_TEST(hub.connection_count() == 0u);
  BOOST_TEST(!hub.username_in_use("alice"));
}

BOOST_AUTO_TEST_CASE(commands_after_disconnect_are_ignored) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&bob});
  hub.disconnect(alice, cturn::disconnect_reason::eof);
  hub.disconnect(alice, cturn::disconnect_reason::eof);  // twice: harmless
  send(alice, username("alice"));
  send(alice, cturn::join_room{"r"});
  BOOST_TEST(events.empty());
  BOOST_TEST(!hub.username_in_use("alice"));
  BOOST_TEST(hub.connection_count() == 1u);
}

// --- fail, deadline, shutdown -----------------------------------------------

BOOST_AUTO_TEST_CASE(fail_sends_the_error_closes_and_lets_go_at_once) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  hub.fail(alice, cturn::protocol_error::message_too_long);
  BOOST_TEST(alice.take() == frames{error_frame("Message too long")});
  BOOST_TEST(alice.close_requests == 1);
  // The room and the name do not wait for the socket's close.
  BOOST_TEST(bob.take() == frames{system_frame("alice disconnected")});
  BOOST_TEST(!hub.username_in_use("alice"));
  BOOST_TEST(hub.connection_count() == 1u);
  BOOST_TEST(members("r") == std::vector<std::string>{"bob"});
  forget_frames();

  // Nothing it sends counts any more.
  send(alice, say(R"({"content":"late"})"));
  send(alice, cturn::leave_room{});
  send(alice, cturn::create_room{"s"});
  BOOST_TEST(events.empty());
  BOOST_TEST(hub.room_count() == 1u);

  // A second failure does not send or close again.
  hub.fail(alice, cturn::protocol_error::invalid_json);
  hub.registration_deadline(alice);
  BOOST_TEST(alice.frames.empty());
  BOOST_TEST(alice.close_requests == 1);

  // Nor does the socket's close, when it comes.
  hub.disconnect(alice, cturn::disconnect_reason::closed);
  BOOST_TEST(events.empty());
}

BOOST_AUTO_TEST_CASE(fail_of_the_last_member_deletes_the_room) {
  fake_participant& alice = user("alice");
  room_with("r", {&alice});
  hub.fail(alice, cturn::protocol_error::message_too_long);
  BOOST_TEST(hub.room_count() == 0u);
  fake_participant& bob = user("bob");
  send(bob, cturn::join_room{"r"});
  BOOST_TEST(bob.take() == frames{error_frame("Room does not exist")});
}

BOOST_AUTO_TEST_CASE(failed_unregistered_client_ignores_username) {
  fake_participant& client = connect();
  hub.fail(client, cturn::protocol_error::message_too_long);
  send(client, username("alice"));
  BOOST_TEST(client.take() == frames{error_frame("Message too long")});
  BOOST_TEST(!hub.username_in_use("alice"));
}

BOOST_AUTO_TEST_CASE(registration_deadline_closes_only_unregistered_clients) {
  fake_participant& alice = user("alice");
  fake_participant& late = connect();
  hub.registration_deadline(alice);
  BOOST_TEST(alice.frames.empty());
  BOOST_TEST(alice.close_requests == 0);

  hub.registration_deadline(late);
  BOOST_TEST(late.take() == frames{error_frame("Username not set in time")});
  BOOST_TEST(late.close_requests == 1);
  send(late, username("bob"));
  BOOST_TEST(late.frames.empty());
  BOOST_TEST(!hub.username_in_use("bob"));
  hub.registration_deadline(late);
  BOOST_TEST(late.close_requests == 1);

  // A client that failed to register a valid name is still unregistered.
  fake_participant& trying = connect();
  send(trying, username("   "));
  trying.take();
  hub.registration_deadline(trying);
  BOOST_TEST(trying.take() == frames{error_frame("Username not set in time")});

  // After a disconnect, a late timer does nothing.
  fake_participant& gone = connect();
  hub.disconnect(gone, cturn::disconnect_reason::eof);
  hub.registration_deadline(gone);
  BOOST_TEST(gone.frames.empty());
  BOOST_TEST(gone.close_requests == 0);
}

BOOST_AUTO_TEST_CASE(shutdown_tells_everyone_and_closes_them) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& anonymous = connect();
  room_with("r", {&alice, &bob});
  BOOST_TEST(!hub.shutting_down());
  hub.shutdown();
  BOOST_TEST(hub.shutting_down());
  for (fake_participant* client : {&alice, &bob, &anonymous}) {
    BOOST_TEST(client->take() == frames{system_frame("Server shutting down")});
    BOOST_TEST(client->close_requests == 1);
  }
  fake_participant late(99);
  BOOST_TEST(!hub.connect(late));
  BOOST_TEST(hub.connection_count() == 3u);
  forget_frames();

  // Commands are ignored from now on; a second shutdown sends nothing.
  send(alice, say(R"({"content":"x"})"));
  send(anonymous, username("carol"));
  hub.shutdown();
  hub.registration_deadline(anonymous);
  BOOST_TEST(events.empty());
  for (fake_participant* client : {&alice, &bob, &anonymous})
    BOOST_TEST(client->close_requests == 1);
}

BOOST_AUTO_TEST_CASE(shutdown_skips_clients_already_closing) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  hub.fail(alice, cturn::protocol_error::message_too_long);
  forget_frames();
  hub.shutdown();
  BOOST_TEST(alice.frames.empty());
  BOOST_TEST(alice.close_requests == 1);
  BOOST_TEST(bob.take() == frames{system_frame("Server shutting down")});
}

BOOST_AUTO_TEST_CASE(shutdown_then_disconnects_drain_the_hub) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  hub.shutdown();
  hub.disconnect(alice, cturn::disconnect_reason::closed);
  hub.disconnect(bob, cturn::disconnect_reason::closed);
  BOOST_TEST(hub.connection_count() == 0u);
  BOOST_TEST(hub.room_count() == 0u);
  BOOST_TEST(!hub.username_in_use("alice"));
}

// Keeps the frames themselves, to tell shared bytes from equal ones.
struct pointer_recorder final : cturn::participant {
  void deliver(const cturn::frame& bytes) override { seen.push_back(bytes); }
  void close_after_flush() override {}
  std::uint64_t connection_id() const override { return 0; }
  std::vector<cturn::frame> seen;
};

BOOST_AUTO_TEST_CASE(broadcast_frames_are_shared) {
  // One encoding per broadcast, the same bytes for every recipient.
  pointer_recorder a;
  pointer_recorder b;
  fake_participant& sender = user("sender");
  BOOST_REQUIRE(hub.connect(a));
  BOOST_REQUIRE(hub.connect(b));
  hub.handle(a, username("a"));
  hub.handle(b, username("b"));
  room_with("r", {&sender});
  hub.handle(a, cturn::join_room{"r"});
  hub.handle(b, cturn::join_room{"r"});
  a.seen.clear();
  b.seen.clear();
  send(sender, say(R"({"content":"x"})"));
  BOOST_REQUIRE(a.seen.size() == 1u);
  BOOST_REQUIRE(b.seen.size() == 1u);
  BOOST_TEST(a.seen.front().shares_bytes_with(b.seen.front()));
}

BOOST_AUTO_TEST_CASE(public_key_frame_is_encoded_once_per_client) {
  // Everyone who joins later gets the same bytes of a member's key.
  fake_participant& keyholder = user("keyholder", "PEM");
  room_with("r", {&keyholder});
  pointer_recorder a;
  pointer_recorder b;
  BOOST_REQUIRE(hub.connect(a));
  BOOST_REQUIRE(hub.connect(b));
  hub.handle(a, username("a"));
  hub.handle(b, username("b"));
  a.seen.clear();
  b.seen.clear();
  hub.handle(a, cturn::join_room{"r"});
  hub.handle(b, cturn::join_room{"r"});
  const std::string expected = pubkey_frame("keyholder", "PEM");
  const auto key_of = [&](const pointer_recorder& who) {
    const auto found = std::find_if(who.seen.begin(), who.seen.end(),
                                    [&](const cturn::frame& f) { return f.text() == expected; });
    BOOST_REQUIRE(found != who.seen.end());
    return *found;
  };
  BOOST_TEST(key_of(a).shares_bytes_with(key_of(b)));
}

// --- a deliver() that throws ------------------------------------------------
// The bookkeeping comes first: a notice that cannot be delivered must not
// leave a name taken, a member in a room, or a freed session in the hub.

BOOST_AUTO_TEST_CASE(disconnect_is_complete_even_when_a_notice_throws) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  fake_participant& carol = user("carol");
  room_with("r", {&alice, &bob, &carol});
  bob.deliveries_throw = true;
  BOOST_CHECK_THROW(hub.disconnect(alice, cturn::disconnect_reason::eof), std::bad_alloc);
  BOOST_TEST(!hub.username_in_use("alice"));
  BOOST_TEST(hub.connection_count() == 2u);
  BOOST_TEST(members("r") == (std::vector<std::string>{"bob", "carol"}));

  alice.released = true;
  bob.deliveries_throw = false;
  forget_frames();
  hub.shutdown();
  BOOST_TEST(alice.deliveries_after_release == 0);
  BOOST_TEST(alice.close_requests == 0);
  BOOST_TEST(bob.take() == frames{system_frame("Server shutting down")});
  BOOST_TEST(carol.take() == frames{system_frame("Server shutting down")});
}

BOOST_AUTO_TEST_CASE(fail_is_complete_even_when_a_notice_throws) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  bob.deliveries_throw = true;
  BOOST_CHECK_THROW(hub.fail(alice, cturn::protocol_error::message_too_long), std::bad_alloc);
  // The failing client is told and closed before its room is.
  BOOST_TEST(alice.take() == frames{error_frame("Message too long")});
  BOOST_TEST(alice.close_requests == 1);
  BOOST_TEST(!hub.username_in_use("alice"));
  BOOST_TEST(members("r") == std::vector<std::string>{"bob"});

  // The last member's notice-free exit deletes the room.
  bob.deliveries_throw = false;
  hub.disconnect(bob, cturn::disconnect_reason::eof);
  BOOST_TEST(hub.room_count() == 0u);
  BOOST_TEST(hub.connection_count() == 0u);
}

BOOST_AUTO_TEST_CASE(leave_is_complete_even_when_a_notice_throws) {
  fake_participant& alice = user("alice");
  fake_participant& bob = user("bob");
  room_with("r", {&alice, &bob});
  bob.deliveries_throw = true;
  BOOST_CHECK_THROW(hub.handle(alice, cturn::leave_room{}), std::bad_alloc);
  BOOST_TEST(members("r") == std::vector<std::string>{"bob"});
  bob.deliveries_throw = false;
  forget_frames();
  send(alice, cturn::create_room{"s"});
  BOOST_TEST(alice.take() == (frames{welcome_frame("Created and joined room: s"),
                                     system_frame("alice created the room")}));
}

BOOST_AUTO_TEST_CASE(create_and_username_leave_whole_state_when_the_answer_throws) {
  fake_participant& alice = connect();
  alice.deliveries_throw = true;
  BOOST_CHECK_THROW(hub.handle(alice, username("alice")), std::bad_alloc);
  BOOST_TEST(hub.username_in_use("alice"));  // held by a live client: no ghost
  BOOST_CHECK_THROW(hub.handle(alice, cturn::create_room{"r"}), std::bad_alloc);
  BOOST_TEST(members("r") == std::vector<std::string>{"alice"});
  alice.deliveries_throw = false;
  hub.disconnect(alice, cturn::disconnect_reason::eof);
  BOOST_TEST(hub.room_count() == 0u);
  BOOST_TEST(!hub.username_in_use("alice"));
}

BOOST_AUTO_TEST_SUITE_END()
