#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cluster/node_core.hpp"
#include "cluster/room_event.hpp"
#include "cluster/scripts.hpp"
#include "expected_frames.hpp"
#include "fake_participant.hpp"
#include "hub/resume_token.hpp"
#include "metrics/metrics.hpp"
#include "protocol/encode.hpp"
#include "test_print.hpp"
#include "text/confusable_skeleton.hpp"

// The cluster node's decisions without Redis: scripted replies, subscription
// acknowledgements and room events go in, with a clock the test moves by
// hand; frames to fake clients and the driver's actions come out.
namespace {

using cturn::testing::error_frame;
using cturn::testing::system_frame;
using cturn::testing::welcome_frame;
using frames = std::vector<std::string>;
using namespace std::chrono_literals;
namespace action = cturn::node_action;

cturn::redis_reply integer(long long value) {
  cturn::redis_reply reply;
  reply.type = cturn::redis_reply::kind::integer;
  reply.integer = value;
  return reply;
}

// join_room's answer: [1, the members' key frames].
cturn::redis_reply joined_with_keys(const std::string& keys) {
  cturn::redis_reply reply;
  reply.type = cturn::redis_reply::kind::array;
  reply.elements.push_back(integer(1));
  cturn::redis_reply blob;
  blob.type = cturn::redis_reply::kind::string;
  blob.text = keys;
  reply.elements.push_back(std::move(blob));
  return reply;
}

struct node_fixture {
  std::chrono::steady_clock::time_point now{};
  cturn::node_core core{[this] { return now; }, cturn::node_timing{.reply_timeout = 3s}};
  std::vector<std::shared_ptr<cturn::testing::fake_participant>> clients;
  // Each client's batch must outlive its handling, as a session's does.
  std::vector<std::unique_ptr<cturn::hub_port::batch>> batches;
  std::uint64_t next_id = 1;

  node_fixture() {
    core.start_serving("n1");
    // The node's own channel, for takeovers of its clients' names.
    const auto taken = core.take_actions();
    BOOST_REQUIRE_EQUAL(taken.size(), 1U);
    const auto* subscribe = std::get_if<action::subscribe>(&taken.front());
    BOOST_REQUIRE(subscribe != nullptr);
    BOOST_TEST(subscribe->room == "\nn1");
    core.on_subscribed(subscribe->room, subscribe->epoch, true);
    BOOST_TEST(core.take_actions().empty());
  }

  cturn::testing::fake_participant& connect() {
    auto client = std::make_shared<cturn::testing::fake_participant>(next_id++);
    clients.push_back(client);
    core.connect(client);
    return *client;
  }
  std::shared_ptr<cturn::participant> shared(cturn::testing::fake_participant& client) {
    for (const auto& held : clients)
      if (held.get() == &client)
        return held;
    throw std::logic_error("not a client of this fixture");
  }

  // Submits the commands as one batch; the flag tells when it is done.
  std::shared_ptr<bool> submit(cturn::testing::fake_participant& client,
                               std::vector<cturn::command> commands) {
    auto& lines = *batches.emplace_back(std::make_unique<cturn::hub_port::batch>());
    for (auto& request : commands)
      lines.emplace_back(std::move(request));
    auto done = std::make_shared<bool>(false);
    core.submit(shared(client), lines, now, [done] { *done = true; });
    return done;
  }

  std::vector<cturn::node_action_t> actions() { return core.take_actions(); }

  // The one call among the actions; fails the test if there is not exactly one.
  action::call only_call(const std::vector<cturn::node_action_t>& taken) {
    std::vector<action::call> calls;
    for (const auto& each : taken)
      if (const auto* call = std::get_if<action::call>(&each))
        calls.push_back(*call);
    BOOST_REQUIRE_EQUAL(calls.size(), 1U);
    return calls.front();
  }

  // Registers `name`: the claim's call, answered with success.
  cturn::testing::fake_participant& registered(const std::string& name) {
    cturn::testing::fake_participant& client = connect();
    submit(client, {cturn::set_username{.name = name, .public_key = {}}});
    core.on_reply(only_call(actions()).request, integer(1));
    client.take();
    return client;
  }

  // Takes `client` into `room` through create: subscription, script, event.
  void created(cturn::testing::fake_participant& client, const std::string& name,
               const std::string& room) {
    submit(client, {cturn::create_room{room}});
    const auto taken = actions();
    BOOST_REQUIRE(!taken.empty());
    const auto* subscribe = std::get_if<action::subscribe>(&taken.front());
    if (subscribe != nullptr)
      core.on_subscribed(room, subscribe->epoch, true);
    core.on_reply(only_call(actions()).request, integer(1));
    core.on_room_event(room, "C\n" + name);
    client.take();
    actions();
  }

  // alice created `lobby` and bob joined it, both without keys; nothing
  // left to take.
  std::pair<cturn::testing::fake_participant&, cturn::testing::fake_participant&> lobby_of_two() {
    auto& alice = registered("alice");
    created(alice, "alice", "lobby");
    auto& bob = registered("bob");
    submit(bob, {cturn::join_room{"lobby"}});
    core.on_reply(only_call(actions()).request, joined_with_keys(""));
    core.on_room_event("lobby", "J\nbob\n\n");
    alice.take();
    bob.take();
    return {alice, bob};
  }

  bool gave_up(const std::vector<cturn::node_action_t>& taken) {
    for (const auto& each : taken)
      if (std::holds_alternative<action::give_up>(each))
        return true;
    return false;
  }
};

std::string message_event(const std::string& sender, const std::string& body,
                          const std::optional<std::string>& to = std::nullopt) {
  return cturn::encode_message_event(sender, cturn::encode_message(sender, body), to);
}

std::uint64_t foreign_events() {
  return cturn::metrics::collect().foreign_events;
}

bool calls_script(const action::call& call, const std::string& script) {
  return call.arguments.size() >= 3 && call.arguments[0] == "EVAL" && call.arguments[1] == script;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(node_core, node_fixture)

// --- resume -------------------------------------------------------------------

namespace {

// resume_name's answer to a takeover: [2, room or "", the other members' keys].
cturn::redis_reply took_over(const std::string& room, const std::string& keys) {
  cturn::redis_reply reply;
  reply.type = cturn::redis_reply::kind::array;
  reply.elements.push_back(integer(2));
  for (const std::string& text : {room, keys}) {
    cturn::redis_reply blob;
    blob.type = cturn::redis_reply::kind::string;
    blob.text = text;
    reply.elements.push_back(std::move(blob));
  }
  return reply;
}

const std::string token_shown(32, 'a');

cturn::set_username resume_as(const std::string& name) {
  return {.name = name, .public_key = {}, .resume = token_shown};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_username_with_a_token_runs_the_resume_script_with_digests) {
  auto& back = connect();
  submit(back, {resume_as("alice")});
  const auto call = only_call(actions());
  BOOST_TEST(calls_script(call, cturn::scripts::resume_name));
  BOOST_REQUIRE_EQUAL(call.arguments.size(), 9U);
  BOOST_TEST(call.arguments[3] == "n1");
  BOOST_TEST(call.arguments[4] == "alice");
  BOOST_TEST(call.arguments[7] == cturn::hex_of(cturn::digest_of_resume_token(token_shown)));
  // The next token's digest only: the token itself never reaches Redis.
  BOOST_TEST(call.arguments[8].size() == 64U);
  for (const auto& argument : call.arguments)
    BOOST_TEST(argument.find(token_shown) == std::string::npos);
  // A refused token is the script's plain claim: 1 is a fresh registration.
  core.on_reply(call.request, integer(1));
  BOOST_TEST(back.take() == frames{welcome_frame("Username set to: alice")});
  BOOST_REQUIRE_EQUAL(back.tokens.size(), 1U);
  BOOST_TEST(cturn::hex_of(cturn::digest_of_resume_token(back.tokens[0])) == call.arguments[8]);
}

BOOST_AUTO_TEST_CASE(a_wrong_token_is_a_taken_name) {
  auto& back = connect();
  submit(back, {resume_as("alice")});
  core.on_reply(only_call(actions()).request, integer(0));
  BOOST_TEST(back.take() == frames{error_frame("Username already taken")});
}

BOOST_AUTO_TEST_CASE(a_takeover_into_a_room_subscribes_then_rejoins_silently) {
  auto& bob = registered("bob");
  created(bob, "bob", "lobby");
  auto& back = connect();
  const auto done = submit(back, {resume_as("alice"), cturn::leave_room{}});
  const std::string bob_key(cturn::encode_public_key("bob", "KB").text());
  core.on_reply(only_call(actions()).request, took_over("lobby", bob_key));
  // Already subscribed for bob: back at once, no subscription, nothing to bob.
  BOOST_TEST(back.take().front() == welcome_frame("Username set to: alice"));
  BOOST_TEST(bob.take().empty());
  // The batch went on: the leave is alice's, as a member's.
  const auto leave = only_call(actions());
  BOOST_TEST(calls_script(leave, cturn::scripts::leave_room));
  core.on_reply(leave.request, integer(1));
  core.on_room_event("lobby", "L\nalice");
  BOOST_TEST(bob.take() == frames{system_frame("alice left the room")});
  BOOST_TEST(*done);
}

BOOST_AUTO_TEST_CASE(a_takeover_into_a_room_not_listened_to_waits_for_its_subscription) {
  auto& back = connect();
  const auto done = submit(back, {resume_as("alice")});
  const std::string bob_key(cturn::encode_public_key("bob", "KB").text());
  core.on_reply(only_call(actions()).request, took_over("lobby", bob_key));
  BOOST_TEST(back.take() == frames{welcome_frame("Username set to: alice")});
  const auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  const auto* subscribe = std::get_if<action::subscribe>(&taken.front());
  BOOST_REQUIRE(subscribe != nullptr);
  BOOST_TEST(subscribe->room == "lobby");
  BOOST_TEST(!*done);
  core.on_subscribed("lobby", subscribe->epoch, true);
  BOOST_TEST(back.take() == (frames{welcome_frame("Joined room: lobby"), bob_key}));
  BOOST_TEST(*done);
  core.on_room_event("lobby", cturn::encode_message_event("bob", cturn::encode_message("bob", "{}"),
                                                          std::nullopt));
  BOOST_TEST(back.take() == frames{cturn::testing::message_frame("bob", "{}")});
}

BOOST_AUTO_TEST_CASE(a_takeover_elsewhere_closes_the_old_connection_without_a_word) {
  auto [alice, bob] = lobby_of_two();
  // Alice resumed on n2: n1 hears it on its own channel.
  core.on_room_event("\nn1", "T\nalice\nn2");
  BOOST_TEST(alice.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(alice.close_requests == 1);
  BOOST_TEST((alice.chatter == std::vector{cturn::chatter_event::username,
                                           cturn::chatter_event::resumed_elsewhere}));
  BOOST_TEST(bob.take().empty());
  // Its close then says nothing to Redis: the name is n2's now.
  core.disconnect(alice, cturn::disconnect_reason::closed);
  BOOST_TEST(actions().empty());
  // Alice, from n2, still reaches bob here.
  core.on_room_event("lobby", cturn::encode_message_event(
                                  "alice", cturn::encode_message("alice", "{}"), std::nullopt));
  BOOST_TEST(bob.take() == frames{cturn::testing::message_frame("alice", "{}")});
}

BOOST_AUTO_TEST_CASE(a_takeover_on_the_same_node_drops_the_old_connection_at_the_reply) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  auto& back = connect();
  submit(back, {resume_as("alice")});
  core.on_reply(only_call(actions()).request, took_over("lobby", ""));
  BOOST_TEST(alice.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(back.take() == (frames{welcome_frame("Username set to: alice"),
                                    welcome_frame("Joined room: lobby")}));
  BOOST_TEST((back.chatter == std::vector{cturn::chatter_event::resume}));
  // Its own event, later, closes nobody.
  core.on_room_event("\nn1", "T\nalice\nn1");
  BOOST_TEST(back.close_requests == 0);
  core.disconnect(alice, cturn::disconnect_reason::closed);
  BOOST_TEST(actions().empty());
  core.on_room_event("lobby", cturn::encode_message_event("bob", cturn::encode_message("bob", "{}"),
                                                          std::nullopt));
  BOOST_TEST(back.take() == frames{cturn::testing::message_frame("bob", "{}")});
}

BOOST_AUTO_TEST_CASE(a_name_moved_under_a_command_drops_that_client_not_the_node) {
  auto& alice = registered("alice");
  auto& bob = registered("bob");
  submit(alice, {cturn::create_room{"lobby"}});
  const auto taken = actions();
  const auto* subscribe = std::get_if<action::subscribe>(&taken.front());
  BOOST_REQUIRE(subscribe != nullptr);
  core.on_subscribed("lobby", subscribe->epoch, true);
  core.on_reply(only_call(actions()).request,
                cturn::redis_reply::error(std::string(cturn::scripts::name_moved)));
  BOOST_TEST(alice.take() == frames{system_frame("Session resumed elsewhere")});
  BOOST_TEST(!gave_up(actions()));
  BOOST_TEST(core.serving());
  BOOST_TEST(bob.close_requests == 0);
  // A fenced message of a moved name: no reason to give up either.
  core.on_command_error(cturn::redis_reply::error(std::string(cturn::scripts::name_moved)));
  BOOST_TEST(core.serving());
  BOOST_TEST(!gave_up(actions()));
}

BOOST_AUTO_TEST_CASE(a_changed_key_reaches_the_other_members_only) {
  auto [alice, bob] = lobby_of_two();
  const std::string new_key(cturn::encode_public_key("alice", "KA2").text());
  core.on_room_event("lobby", "K\nalice\n" + new_key);
  BOOST_TEST(bob.take() == frames{new_key});
  BOOST_TEST(alice.take().empty());
}

BOOST_AUTO_TEST_CASE(a_username_is_welcomed_only_once_redis_has_granted_it) {
  auto& alice = connect();
  const auto done = submit(alice, {cturn::set_username{.name = " alice ", .public_key = {}}});
  const auto claim = only_call(actions());
  BOOST_TEST(calls_script(claim, cturn::scripts::claim_name));
  BOOST_TEST(claim.arguments[3] == "n1");
  BOOST_TEST(claim.arguments[4] == "alice");
  BOOST_TEST(alice.take().empty());
  BOOST_TEST(!*done);

  BOOST_TEST(alice.chatter.empty());  // logged with its welcome, not before
  core.on_reply(claim.request, integer(1));
  BOOST_TEST(alice.take() == frames{welcome_frame("Username set to: alice")});
  BOOST_TEST(alice.registrations == 1);
  BOOST_TEST(*done);
  BOOST_TEST(core.user_count() == 1U);
  BOOST_TEST((alice.chatter == std::vector{cturn::chatter_event::username}));
  core.disconnect(alice, cturn::disconnect_reason::eof);
  BOOST_TEST((alice.chatter ==
              std::vector{cturn::chatter_event::username, cturn::chatter_event::disconnect}));
}

BOOST_AUTO_TEST_CASE(a_refused_claim_is_a_taken_name) {
  auto& alice = connect();
  submit(alice, {cturn::set_username{.name = "alice", .public_key = {}}});
  core.on_reply(only_call(actions()).request, integer(0));
  BOOST_TEST(alice.take() == frames{error_frame("Username already taken")});
  BOOST_TEST(core.user_count() == 0U);
}

BOOST_AUTO_TEST_CASE(with_a_bad_key_a_taken_name_still_outranks_the_key) {
  auto& alice = connect();
  const cturn::set_username bad_key{.name = "alice", .public_key = "k", .public_key_valid = false};
  submit(alice, {bad_key});
  const auto check = only_call(actions());
  BOOST_TEST(check.arguments ==
                 (std::vector<std::string>{
                     "EXISTS", cturn::scripts::skeleton_key(cturn::confusable_skeleton("alice"))}),
             boost::test_tools::per_element());
  core.on_reply(check.request, integer(1));
  BOOST_TEST(alice.take() == frames{error_frame("Username already taken")});

  submit(alice, {bad_key});
  core.on_reply(only_call(actions()).request, integer(0));
  BOOST_TEST(alice.take() == frames{error_frame("Invalid public key")});
  BOOST_TEST(core.user_count() == 0U);
}

BOOST_AUTO_TEST_CASE(a_claim_granted_after_its_client_left_is_given_back) {
  auto& alice = connect();
  submit(alice, {cturn::set_username{.name = "alice", .public_key = {}}});
  const auto claim = only_call(actions());
  core.registration_deadline(alice);  // gone before the claim's reply
  BOOST_TEST(alice.take() == frames{error_frame("Username not set in time")});
  BOOST_TEST(actions().empty());

  core.on_reply(claim.request, integer(1));
  const auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  const auto& drop = std::get<action::send>(taken.front());
  BOOST_TEST(drop.arguments[1] == cturn::scripts::drop_name);
  BOOST_TEST(drop.arguments[3] == "n1");
  BOOST_TEST(drop.arguments[4] == "alice");
}

BOOST_AUTO_TEST_CASE(a_claim_refused_after_its_client_left_needs_nothing) {
  auto& alice = connect();
  submit(alice, {cturn::set_username{.name = "alice", .public_key = {}}});
  const auto claim = only_call(actions());
  core.disconnect(alice, cturn::disconnect_reason::eof);
  core.on_reply(claim.request, integer(0));
  BOOST_TEST(actions().empty());
}

BOOST_AUTO_TEST_CASE(the_room_is_subscribed_before_the_entry_script_runs) {
  auto& alice = registered("alice");
  const auto done = submit(alice, {cturn::create_room{"lobby"}, cturn::leave_room{}});
  auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  const auto subscribe = std::get<action::subscribe>(taken.front());
  BOOST_TEST(subscribe.room == "lobby");

  core.on_subscribed("lobby", subscribe.epoch, true);
  const auto create = only_call(actions());
  BOOST_TEST(calls_script(create, cturn::scripts::create_room));
  // The own event may come before the script's reply: the client is in the
  // room from it on, and the batch goes on only once both are in.
  core.on_room_event("lobby", "C\nalice");
  BOOST_TEST(alice.take() == (frames{welcome_frame("Created and joined room: lobby"),
                                     system_frame("alice created the room")}));
  BOOST_TEST(actions().empty());
  core.on_reply(create.request, integer(1));
  const auto leave = only_call(actions());
  BOOST_TEST(calls_script(leave, cturn::scripts::leave_room));
  BOOST_TEST(!*done);
  core.on_reply(leave.request, integer(1));
  BOOST_TEST(!*done);  // the leave's own event is still to come
  core.on_room_event("lobby", "L\nalice");
  BOOST_TEST(alice.take() == frames{welcome_frame("Left room: lobby")});
  BOOST_TEST(*done);
  // The last local member gone: the node stops listening to the room.
  taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  BOOST_TEST(std::get<action::unsubscribe>(taken.front()).room == "lobby");
}

BOOST_AUTO_TEST_CASE(an_ack_for_an_earlier_subscription_is_not_this_ones) {
  auto& alice = registered("alice");
  auto& bob = registered("bob");
  submit(alice, {cturn::join_room{"lobby"}});
  const auto first = std::get<action::subscribe>(actions().front());
  core.disconnect(alice, cturn::disconnect_reason::eof);  // drops the room's interest
  auto taken = actions();
  BOOST_TEST(std::holds_alternative<action::unsubscribe>(taken.front()));

  submit(bob, {cturn::join_room{"lobby"}});
  const auto second = std::get<action::subscribe>(actions().front());
  BOOST_TEST(second.epoch != first.epoch);
  core.on_subscribed("lobby", first.epoch, true);
  BOOST_TEST(actions().empty());  // bob still waits for his own subscription
  core.on_subscribed("lobby", second.epoch, true);
  BOOST_TEST(calls_script(only_call(actions()), cturn::scripts::join_room));
}

BOOST_AUTO_TEST_CASE(a_join_delivers_the_room_from_its_own_event_on) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  auto& bob = registered("bob");
  submit(bob, {cturn::join_room{"lobby"}});
  const std::string alice_key(cturn::encode_public_key("alice", "KA").text());
  // Already subscribed: the script runs at once; its reply brings the keys.
  core.on_reply(only_call(actions()).request, joined_with_keys(alice_key));
  // Carol's message travels before bob's join: not his.
  core.on_room_event("lobby", cturn::encode_message_event(
                                  "carol", cturn::encode_message("carol", "{}"), std::nullopt));
  BOOST_TEST(bob.take().empty());
  core.on_room_event("lobby", "J\nbob\n\n");
  BOOST_TEST(alice.take() == (frames{cturn::testing::message_frame("carol", "{}"),
                                     system_frame("bob joined the room")}));
  BOOST_TEST(bob.take() == (frames{welcome_frame("Joined room: lobby"), alice_key}));
}

BOOST_AUTO_TEST_CASE(a_joined_event_before_its_reply_holds_the_room_behind_the_keys) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  auto& bob = registered("bob");
  const auto done = submit(bob, {cturn::join_room{"lobby"}});
  const auto join = only_call(actions());
  const std::string bob_key(cturn::encode_public_key("bob", "KB").text());
  core.on_room_event("lobby", "J\nbob\n" + bob_key);
  core.on_room_event("lobby", cturn::encode_message_event(
                                  "alice", cturn::encode_message("alice", "{}"), std::nullopt));
  BOOST_TEST(alice.take() == (frames{system_frame("bob joined the room"), bob_key}));
  BOOST_TEST(bob.take().empty());
  BOOST_TEST(!*done);

  const std::string alice_key(cturn::encode_public_key("alice", "KA").text());
  core.on_reply(join.request, joined_with_keys(alice_key));
  BOOST_TEST(bob.take() == (frames{welcome_frame("Joined room: lobby"), alice_key,
                                   cturn::testing::message_frame("alice", "{}")}));
  BOOST_TEST(*done);
  // From now on straight to bob.
  core.on_room_event("lobby", "L\nalice");
  BOOST_TEST(bob.take() == frames{system_frame("alice left the room")});
}

BOOST_AUTO_TEST_CASE(a_message_to_oneself_holds_the_batch_until_it_comes_back) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  std::string to_self_body = R"({"m":1})";
  cturn::send_message to_self{.body = to_self_body, .to = std::nullopt};
  to_self.to.emplace("alice");
  const auto done = submit(alice, {to_self, cturn::leave_room{}});
  auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  const auto& publish = std::get<action::publish>(taken.front());
  BOOST_TEST(publish.sender == "alice");
  BOOST_TEST(publish.room == "lobby");
  BOOST_TEST(!*done);

  BOOST_TEST((publish.to == std::optional<std::string>("alice")));
  // It comes back on this node's own channel, where the script puts it.
  core.on_node_event("lobby\n" + publish.payload);
  BOOST_TEST(alice.take() == frames{cturn::testing::message_frame("alice", R"({"m":1})")});
  BOOST_TEST(calls_script(only_call(actions()), cturn::scripts::leave_room));
}

BOOST_AUTO_TEST_CASE(a_reply_that_never_comes_ends_in_giving_up_at_the_deadline) {
  auto& alice = connect();
  const auto done = submit(alice, {cturn::set_username{.name = "alice", .public_key = {}}});
  actions();
  now += 2999ms;
  core.tick();
  BOOST_TEST(!gave_up(actions()));
  now += 2ms;
  core.tick();
  BOOST_TEST(gave_up(actions()));
  BOOST_TEST(alice.take() == frames{system_frame("Server unavailable")});
  BOOST_TEST(alice.close_requests == 1);
  BOOST_TEST(*done);  // the session is not left waiting
  BOOST_TEST(!core.serving());
}

BOOST_AUTO_TEST_CASE(a_subscription_that_is_never_confirmed_ends_in_giving_up) {
  auto& alice = registered("alice");
  submit(alice, {cturn::join_room{"lobby"}});
  actions();
  now += 3001ms;
  core.tick();
  BOOST_TEST(gave_up(actions()));
}

BOOST_AUTO_TEST_CASE(an_own_event_that_never_comes_ends_in_giving_up) {
  auto& alice = registered("alice");
  submit(alice, {cturn::create_room{"lobby"}});
  core.on_subscribed("lobby", std::get<action::subscribe>(actions().front()).epoch, true);
  core.on_reply(only_call(actions()).request, integer(1));
  now += 3001ms;
  core.tick();
  BOOST_TEST(gave_up(actions()));
}

BOOST_AUTO_TEST_CASE(a_refused_subscription_ends_in_giving_up) {
  auto& alice = registered("alice");
  submit(alice, {cturn::join_room{"lobby"}});
  core.on_subscribed("lobby", std::get<action::subscribe>(actions().front()).epoch, false);
  BOOST_TEST(gave_up(actions()));
  BOOST_TEST(alice.take() == frames{system_frame("Server unavailable")});
}

BOOST_AUTO_TEST_CASE(a_lost_lease_in_a_script_reply_ends_in_giving_up) {
  auto& alice = connect();
  submit(alice, {cturn::set_username{.name = "alice", .public_key = {}}});
  core.on_reply(only_call(actions()).request,
                cturn::redis_reply::error(std::string(cturn::scripts::lease_lost)));
  const auto taken = actions();
  BOOST_REQUIRE(gave_up(taken));
  BOOST_TEST(std::get<action::give_up>(taken.back()).why == "lease expired");
}

BOOST_AUTO_TEST_CASE(a_leave_redis_does_not_know_leaves_the_room_here_too) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  std::string body = "{}";
  submit(alice, {cturn::leave_room{}});
  core.on_reply(only_call(actions()).request, integer(0));
  BOOST_TEST(alice.take() == frames{error_frame("Not in any room")});
  submit(alice, {cturn::send_message{.body = body, .to = std::nullopt}});
  BOOST_TEST(alice.take() == frames{error_frame("You must join a room first")});
}

BOOST_AUTO_TEST_CASE(a_remote_members_events_reach_the_local_members) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  core.on_room_event("lobby", "J\ncarol\n\n");
  core.on_room_event("lobby", "D\ncarol");
  BOOST_TEST(alice.take() ==
             (frames{system_frame("carol joined the room"), system_frame("carol disconnected")}));
}

BOOST_AUTO_TEST_CASE(events_of_a_room_not_subscribed_here_are_ignored) {
  auto& alice = registered("alice");
  core.on_room_event("lobby", "J\ncarol\n\n");
  BOOST_TEST(alice.take().empty());
  // Nor one whose subscription Redis has not confirmed yet: bob's own joined
  // event cannot count before his script has even run.
  auto& bob = registered("bob");
  const auto done = submit(bob, {cturn::join_room{"lobby"}});
  const auto subscribe = std::get<action::subscribe>(actions().front());
  core.on_room_event("lobby", "J\nbob\n\n");
  BOOST_TEST(bob.take().empty());
  core.on_subscribed("lobby", subscribe.epoch, true);
  BOOST_TEST(calls_script(only_call(actions()), cturn::scripts::join_room));
  BOOST_TEST(!*done);
}

BOOST_AUTO_TEST_CASE(a_node_not_serving_turns_clients_away) {
  core.lost("connection lost");
  actions();
  auto& alice = connect();
  BOOST_TEST(alice.take() == frames{system_frame("Server unavailable")});
  BOOST_TEST(alice.close_requests == 1);
}

BOOST_AUTO_TEST_CASE(shutdown_tells_everyone_and_leaves_the_cluster) {
  auto& alice = registered("alice");
  core.shutdown();
  BOOST_TEST(alice.take() == frames{system_frame("Server shutting down")});
  const auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  const auto& reap = std::get<action::send>(taken.front());
  BOOST_TEST(reap.arguments[1] == cturn::scripts::reap_nodes);
  BOOST_TEST(reap.arguments[3] == "n1");
}

BOOST_AUTO_TEST_CASE(a_failed_client_leaves_before_it_hears_why) {
  auto& alice = registered("alice");
  core.fail(alice, cturn::protocol_error::message_too_long);
  BOOST_TEST(alice.take() == frames{error_frame("Message too long")});
  BOOST_TEST(alice.close_requests == 1);
  BOOST_TEST(core.user_count() == 0U);
  const auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 1U);
  BOOST_TEST(std::get<action::send>(taken.front()).arguments[1] == cturn::scripts::drop_name);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(node_core_routing, node_fixture)

BOOST_AUTO_TEST_CASE(a_directed_message_is_published_for_its_recipient_alone) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  cturn::send_message directed{.body = "{}", .to = std::string("bob")};
  cturn::send_message broadcast{.body = "{}", .to = std::nullopt};
  submit(alice, {directed, broadcast});
  const auto taken = actions();
  BOOST_REQUIRE_EQUAL(taken.size(), 2U);
  const auto& first = std::get<action::publish>(taken[0]);
  const auto& second = std::get<action::publish>(taken[1]);
  // The driver sends the first to the recipient's node's channel, the
  // second to the room's (scripts::publish_message).
  BOOST_TEST((first.to == std::optional<std::string>("bob")));
  BOOST_TEST(first.payload == message_event("alice", "{}", std::string("bob")));
  BOOST_TEST(!second.to.has_value());
}

BOOST_AUTO_TEST_CASE(a_directed_message_keeps_its_place_among_the_rooms_events) {
  auto [alice, bob] = lobby_of_two();
  // Interleaved as one connection delivers them: the room's channel and
  // this node's, in the order Redis published them.
  core.on_room_event("lobby", "J\ncarol\n\n");
  core.on_node_event("lobby\n" + message_event("carol", R"({"n":1})", std::string("bob")));
  core.on_room_event("lobby", message_event("carol", R"({"n":2})"));
  core.on_node_event("lobby\n" + message_event("carol", R"({"n":3})", std::string("alice")));
  core.on_room_event("lobby", "L\ncarol");
  BOOST_TEST(bob.take() == (frames{system_frame("carol joined the room"),
                                   cturn::testing::message_frame("carol", R"({"n":1})"),
                                   cturn::testing::message_frame("carol", R"({"n":2})"),
                                   system_frame("carol left the room")}));
  BOOST_TEST(alice.take() == (frames{system_frame("carol joined the room"),
                                     cturn::testing::message_frame("carol", R"({"n":2})"),
                                     cturn::testing::message_frame("carol", R"({"n":3})"),
                                     system_frame("carol left the room")}));
}

BOOST_AUTO_TEST_CASE(a_directed_message_for_a_room_this_node_left_is_not_delivered) {
  auto& alice = registered("alice");
  const auto before = foreign_events();
  // Alice is in no room: a message from a room she left meanwhile.
  core.on_node_event("lobby\n" + message_event("carol", "{}", std::string("alice")));
  BOOST_TEST(alice.take().empty());
  // Not a forgery: a message that crossed her leave.
  BOOST_TEST(foreign_events() == before);
}

BOOST_AUTO_TEST_CASE(only_directed_messages_travel_on_a_nodes_channel) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  const auto before = foreign_events();
  const std::string forged[] = {
      "lobby\n" + message_event("carol", "{}"),  // a broadcast
      "lobby\nJ\ncarol\n\n",                     // a room event
      "lobby\nL\nalice",
      "no room in front",
      "\nM\ncarol\n{}\n+alice",
  };
  for (const std::string& payload : forged)
    core.on_node_event(payload);
  BOOST_TEST(alice.take().empty());
  BOOST_TEST(foreign_events() == before + std::size(forged));
  BOOST_TEST(!gave_up(actions()));
}

BOOST_AUTO_TEST_CASE(payloads_that_are_not_the_nodes_own_events_never_reach_a_client) {
  auto& alice = registered("alice");
  created(alice, "alice", "lobby");
  const auto before = foreign_events();
  const std::string forged[] = {
      "\x1b[2J\x1b[31mPWNED",       // not an event at all
      "M\ncarol\n\x1b[2Jhello\n-",  // a message whose frame is raw bytes
      "M\ncarol\n{\"type\":\"message\",\"sender\":\"carol\",\"body\":{}\n-",  // broken JSON
      "M\ncarol\n" + cturn::testing::message_frame("mallory", "{}") + "-",    // another sender
      "M\ncarol\n" + cturn::testing::message_frame("carol", "\"\x1b[2J\"") + "-",
      "J\ncarol\n{\"type\":\"system\",\"body\":{\"content\":\"x\"}}\n",  // not a key frame
      "J\ncarol\n\n" + cturn::testing::pubkey_frame("dave", "K"),        // keys of others
      "C\ncar\x1bol",                                                    // a name no one has
  };
  for (const std::string& payload : forged)
    core.on_room_event("lobby", payload);
  BOOST_TEST(alice.take().empty());
  BOOST_TEST(foreign_events() == before + std::size(forged));
  // The room goes on.
  core.on_room_event("lobby", message_event("carol", R"({"ok":true})"));
  BOOST_TEST(alice.take() == frames{cturn::testing::message_frame("carol", R"({"ok":true})")});
}

BOOST_AUTO_TEST_SUITE_END()
