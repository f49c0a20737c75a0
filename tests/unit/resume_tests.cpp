#include <boost/test/unit_test.hpp>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "expected_frames.hpp"
#include "fake_participant.hpp"
#include "hub/resume_token.hpp"
#include "hub/room_hub.hpp"
#include "protocol/decode.hpp"
#include "protocol/encode.hpp"
#include "protocol/notice.hpp"

namespace {

using cturn::testing::error_frame;
using cturn::testing::fake_participant;
using cturn::testing::pubkey_frame;
using cturn::testing::system_frame;
using cturn::testing::welcome_frame;
using frames = std::vector<std::string>;

cturn::set_username username(std::string name, std::optional<std::string> resume = std::nullopt,
                             std::optional<std::string> key = std::nullopt) {
  return {.name = std::move(name), .public_key = std::move(key), .resume = std::move(resume)};
}

std::string other_token(const std::string& token) {
  std::string changed = token;
  changed[0] = changed[0] == '0' ? '1' : '0';
  return changed;
}

// Alice (key KA) and bob (key KB) in room r, carol registered outside it.
struct resume_fixture {
  cturn::room_hub hub;
  cturn::testing::journal events;
  std::deque<fake_participant> clients;
  std::uint64_t next_id = 1;

  fake_participant& alice;
  fake_participant& bob;
  fake_participant& carol;

  resume_fixture()
      : alice(user("alice", "KA")), bob(user("bob", "KB")), carol(user("carol", std::nullopt)) {
    hub.handle(alice, cturn::create_room{"r"});
    hub.handle(bob, cturn::join_room{"r"});
    forget_frames();
  }

  fake_participant& connect() {
    fake_participant& client = clients.emplace_back(next_id++, &events);
    BOOST_REQUIRE(hub.connect(client));
    return client;
  }

  fake_participant& user(const std::string& name, std::optional<std::string> key) {
    fake_participant& client = connect();
    hub.handle(client, username(name, std::nullopt, std::move(key)));
    BOOST_REQUIRE(client.take() == frames{welcome_frame("Username set to: " + name)});
    BOOST_REQUIRE(client.tokens.size() == 1u);
    return client;
  }

  void forget_frames() {
    for (fake_participant& client : clients)
      client.take();
    events.clear();
  }

  std::vector<std::string> members(const std::string& room) const {
    return hub.room_members(room).value_or(std::vector<std::string>{"<no such room>"});
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(resume_token)

BOOST_AUTO_TEST_CASE(tokens_are_32_lowercase_hex_and_differ) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const cturn::resume_token token = cturn::make_resume_token();
    BOOST_TEST(cturn::looks_like_resume_token(token.text));
    BOOST_TEST(cturn::same_resume_digest(token.digest, cturn::digest_of_resume_token(token.text)));
    seen.insert(token.text);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(digest_is_sha256) {
  // SHA-256("abc"), the FIPS 180-2 example.
  BOOST_TEST(cturn::hex_of(cturn::digest_of_resume_token("abc")) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(only_the_form_of_a_token_looks_like_one) {
  BOOST_TEST(cturn::looks_like_resume_token(std::string(32, 'a')));
  BOOST_TEST(cturn::looks_like_resume_token("0123456789abcdef0123456789abcdef"));
  BOOST_TEST(!cturn::looks_like_resume_token(std::string(31, 'a')));
  BOOST_TEST(!cturn::looks_like_resume_token(std::string(33, 'a')));
  BOOST_TEST(!cturn::looks_like_resume_token("0123456789ABCDEF0123456789abcdef"));
  BOOST_TEST(!cturn::looks_like_resume_token("0123456789abcdeg0123456789abcdef"));
  BOOST_TEST(!cturn::looks_like_resume_token(""));
}

BOOST_AUTO_TEST_CASE(welcome_carries_the_token) {
  BOOST_TEST(cturn::encode_welcome_with_resume("Username set to: alice", "0a1b").text() ==
             R"({"type":"welcome","body":{"content":"Username set to: alice","resume":"0a1b"}})"
             "\n");
  BOOST_TEST(cturn::encode_notice(cturn::notice::resumed_elsewhere).text() ==
             system_frame("Session resumed elsewhere"));
}

BOOST_AUTO_TEST_CASE(decoder_keeps_a_token_of_the_right_form_only) {
  const std::string token(32, 'f');
  const auto decoded = [](const std::string& resume_json) {
    const std::string line =
        R"({"type":"username","body":{"content":"alice","resume":)" + resume_json + "}}";
    auto result = cturn::decode(line);
    BOOST_REQUIRE(result.has_value());
    BOOST_REQUIRE(std::holds_alternative<cturn::set_username>(*result));
    return std::get<cturn::set_username>(*result);
  };
  BOOST_TEST(decoded("\"" + token + "\"").resume.value_or("") == token);
  BOOST_TEST(decoded("\"" + token + "\"").name == "alice");
  // Malformed: exactly as without a token, not an error.
  for (const std::string& bad : std::vector<std::string>{
           "1", "null", "true", "{}", "[]", "\"\"", "\"short\"", "\"" + std::string(32, 'F') + "\"",
           "\"" + std::string(64, 'a') + "\""}) {
    BOOST_TEST_CONTEXT(bad) {
      const auto request = decoded(bad);
      BOOST_TEST(!request.resume.has_value());
      BOOST_TEST(request.public_key_valid);
    }
  }
  const auto plain = cturn::decode(R"({"type":"username","body":{"content":"alice"}})");
  BOOST_TEST(!std::get<cturn::set_username>(*plain).resume.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(room_hub_resume, resume_fixture)

BOOST_AUTO_TEST_CASE(every_welcome_to_a_username_has_a_fresh_token) {
  BOOST_TEST(alice.raw_frames.front().find(R"(,"resume":")" + alice.tokens[0] + "\"") !=
             std::string::npos);
  BOOST_TEST(alice.tokens[0] != bob.tokens[0]);
  BOOST_TEST(cturn::looks_like_resume_token(alice.tokens[0]));
}

BOOST_AUTO_TEST_CASE(resume_while_the_old_connection_is_open_takes_name_room_and_place) {
  fake_participant& back = connect();
  hub.handle(back, username("alice", alice.tokens[0], "KA"));
  BOOST_TEST(alice.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(alice.close_requests == 1);
  BOOST_TEST(back.take() == (frames{welcome_frame("Username set to: alice"),
                                    welcome_frame("Joined room: r"), pubkey_frame("bob", "KB")}));
  BOOST_TEST(back.registrations == 1);
  // A resume is never a health check's: its own line, through the participant.
  BOOST_TEST((back.chatter == std::vector{cturn::chatter_event::resume}));
  BOOST_TEST(back.tokens.size() == 1u);
  BOOST_TEST(back.tokens[0] != alice.tokens[0]);
  // Room-mates hear nothing: no leave, no join, the key is the same.
  BOOST_TEST(bob.take().empty());
  BOOST_TEST(carol.take().empty());
  BOOST_TEST(members("r") == (std::vector<std::string>{"alice", "bob"}));
  BOOST_TEST(hub.user_count() == 3u);
  BOOST_TEST(hub.connection_count() == 3u);

  // The room is the new connection's: it talks and is talked to.
  hub.handle(back, cturn::send_message{.body = R"({"content":"hi"})", .to = std::nullopt});
  BOOST_TEST(bob.take() == frames{cturn::testing::message_frame("alice", R"({"content":"hi"})")});
  hub.handle(bob, cturn::send_message{.body = R"({"content":"yo"})", .to = std::string("alice")});
  BOOST_TEST(back.take() == frames{cturn::testing::message_frame("bob", R"({"content":"yo"})")});

  // The old connection is gone from the hub: its close announces nothing,
  // its late commands do nothing.
  hub.handle(alice, cturn::leave_room{});
  hub.disconnect(alice, cturn::disconnect_reason::closed);
  BOOST_TEST(alice.take().empty());
  BOOST_TEST(bob.take().empty());
  BOOST_TEST(hub.username_in_use("alice"));
  BOOST_TEST(members("r") == (std::vector<std::string>{"alice", "bob"}));
}

BOOST_AUTO_TEST_CASE(resume_keeps_the_place_in_the_room) {
  // Bob entered after alice: alice resumed is still first, so a newcomer
  // gets the keys in the same order as before.
  fake_participant& back = connect();
  hub.handle(back, username("alice", alice.tokens[0], "KA"));
  forget_frames();
  hub.handle(carol, cturn::join_room{"r"});
  BOOST_TEST(carol.take() == (frames{welcome_frame("Joined room: r"), pubkey_frame("alice", "KA"),
                                     pubkey_frame("bob", "KB")}));
}

BOOST_AUTO_TEST_CASE(a_changed_key_goes_to_the_room) {
  fake_participant& back = connect();
  hub.handle(back, username("alice", alice.tokens[0], "KA2"));
  BOOST_TEST(bob.take() == frames{pubkey_frame("alice", "KA2")});
  BOOST_TEST(back.take() == (frames{welcome_frame("Username set to: alice"),
                                    welcome_frame("Joined room: r"), pubkey_frame("bob", "KB")}));
  // And it is the key a newcomer gets.
  hub.handle(carol, cturn::join_room{"r"});
  BOOST_TEST(carol.take() == (frames{welcome_frame("Joined room: r"), pubkey_frame("alice", "KA2"),
                                     pubkey_frame("bob", "KB")}));
}

BOOST_AUTO_TEST_CASE(a_resume_without_a_key_keeps_the_stored_one) {
  fake_participant& back = connect();
  hub.handle(back, username("alice", alice.tokens[0]));
  BOOST_TEST(bob.take().empty());
  hub.handle(carol, cturn::join_room{"r"});
  BOOST_TEST(carol.take() == (frames{welcome_frame("Joined room: r"), pubkey_frame("alice", "KA"),
                                     pubkey_frame("bob", "KB")}));
}

BOOST_AUTO_TEST_CASE(resume_of_a_name_in_no_room) {
  fake_participant& back = connect();
  hub.handle(back, username("carol", carol.tokens[0]));
  BOOST_TEST(carol.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(back.take() == frames{welcome_frame("Username set to: carol")});
  BOOST_TEST(alice.take().empty());
  BOOST_TEST(bob.take().empty());
}

BOOST_AUTO_TEST_CASE(a_wrong_token_is_username_taken) {
  fake_participant& other = connect();
  hub.handle(other, username("alice", other_token(alice.tokens[0])));
  BOOST_TEST(other.take() == frames{error_frame("Username already taken")});
  BOOST_TEST(other.tokens.empty());
  BOOST_TEST(alice.take().empty());
  BOOST_TEST(alice.close_requests == 0);
  BOOST_TEST(bob.take().empty());
  // Another user's token is wrong for this name.
  hub.handle(other, username("alice", bob.tokens[0]));
  BOOST_TEST(other.take() == frames{error_frame("Username already taken")});
}

BOOST_AUTO_TEST_CASE(a_used_token_is_username_taken) {
  fake_participant& back = connect();
  hub.handle(back, username("alice", alice.tokens[0]));
  forget_frames();
  fake_participant& again = connect();
  hub.handle(again, username("alice", alice.tokens[0]));
  BOOST_TEST(again.take() == frames{error_frame("Username already taken")});
  BOOST_TEST(back.take().empty());
  BOOST_TEST(back.close_requests == 0);
  // The new token works, once.
  hub.handle(again, username("alice", back.tokens[0]));
  BOOST_TEST(back.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(again.tokens.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_token_for_a_free_name_is_a_fresh_registration) {
  const std::string token = alice.tokens[0];
  hub.disconnect(alice, cturn::disconnect_reason::closed);
  BOOST_TEST(bob.take() == frames{system_frame("alice disconnected")});
  fake_participant& back = connect();
  hub.handle(back, username("alice", token, "KA"));
  BOOST_TEST(back.take() == frames{welcome_frame("Username set to: alice")});
  BOOST_TEST(back.tokens.size() == 1u);
  BOOST_TEST(back.tokens[0] != token);
  BOOST_TEST(bob.take().empty());
  BOOST_TEST(members("r") == (std::vector<std::string>{"bob"}));
}

BOOST_AUTO_TEST_CASE(the_usual_checks_come_first) {
  fake_participant& back = connect();
  // An invalid name is invalid whatever the token.
  hub.handle(back, username("al\x01ice", alice.tokens[0]));
  BOOST_TEST(back.take() == frames{error_frame("Invalid username")});
  // A registered connection cannot take another name.
  hub.handle(carol, username("alice", alice.tokens[0]));
  BOOST_TEST(carol.take() == frames{error_frame("Username already set")});
  // The right token with a bad key: the path without a token (the name is
  // held: taken); the token stays valid.
  auto bad_key = username("alice", alice.tokens[0], "K");
  bad_key.public_key_valid = false;
  hub.handle(back, std::move(bad_key));
  BOOST_TEST(back.take() == frames{error_frame("Username already taken")});
  BOOST_TEST(alice.take().empty());
  // The name is trimmed before it is looked up.
  hub.handle(back, username(" alice\t", alice.tokens[0]));
  BOOST_TEST(alice.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(back.take().front() == welcome_frame("Username set to: alice"));
}

BOOST_AUTO_TEST_CASE(the_token_dies_with_the_name) {
  const std::string token = carol.tokens[0];
  hub.disconnect(carol, cturn::disconnect_reason::closed);
  fake_participant& fresh = connect();
  hub.handle(fresh, username("carol"));
  forget_frames();
  fake_participant& late = connect();
  hub.handle(late, username("carol", token));
  BOOST_TEST(late.take() == frames{error_frame("Username already taken")});
  BOOST_TEST(fresh.take().empty());
}

BOOST_AUTO_TEST_CASE(a_resumer_alone_in_its_room_gets_no_keys) {
  fake_participant& solo = user("dave", "KD");
  hub.handle(solo, cturn::create_room{"s"});
  forget_frames();
  fake_participant& back = connect();
  hub.handle(back, username("dave", solo.tokens[0], "KD2"));
  BOOST_TEST(back.take() ==
             (frames{welcome_frame("Username set to: dave"), welcome_frame("Joined room: s")}));
  BOOST_TEST(members("s") == (std::vector<std::string>{"dave"}));
  hub.disconnect(back, cturn::disconnect_reason::closed);
  BOOST_TEST(members("s") == (std::vector<std::string>{"<no such room>"}));
}

BOOST_AUTO_TEST_SUITE_END()
