#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

#include "hub/registration.hpp"
#include "test_print.hpp"
#include "text/confusable_skeleton.hpp"

// The order of a `username`'s checks, which both hubs take from here: each
// case gives a request that fails two checks and expects the earlier one.
namespace {

cturn::set_username username(std::string name) {
  cturn::set_username request;
  request.name = std::move(name);
  return request;
}
cturn::set_username username(std::string name, std::string key, bool key_valid = true) {
  cturn::set_username request = username(std::move(name));
  request.public_key.emplace(std::move(key));
  request.public_key_valid = key_valid;
  return request;
}

cturn::local_member unregistered() {
  return {};
}
cturn::local_member registered(std::string name) {
  return {.self = nullptr, .name = std::move(name), .room = nullptr};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registration)

BOOST_AUTO_TEST_CASE(only_username_before_a_name_is_set) {
  BOOST_TEST(cturn::check_registered(unregistered(), cturn::leave_room{}) ==
             cturn::protocol_error::username_required);
  BOOST_TEST(!cturn::check_registered(unregistered(), username("alice")));
  BOOST_TEST(!cturn::check_registered(registered("alice"), cturn::leave_room{}));
}

BOOST_AUTO_TEST_CASE(already_set_outranks_an_invalid_name) {
  const auto claim = cturn::prepare_claim(registered("alice"), username("   "));
  BOOST_TEST(claim.error() == cturn::protocol_error::username_already_set);
}

BOOST_AUTO_TEST_CASE(an_invalid_name_outranks_a_bad_key) {
  BOOST_TEST(cturn::prepare_claim(unregistered(), username(" ", "k", false)).error() ==
             cturn::protocol_error::username_empty);
  BOOST_TEST(cturn::prepare_claim(unregistered(), username("a\x01", "k", false)).error() ==
             cturn::protocol_error::username_invalid);
}

BOOST_AUTO_TEST_CASE(a_claim_holds_the_trimmed_name_its_skeleton_and_its_key) {
  const auto claim = cturn::prepare_claim(unregistered(), username("  alice ", "PEM"));
  BOOST_REQUIRE(claim);
  BOOST_TEST(claim->name == "alice");
  BOOST_TEST(claim->skeleton == cturn::confusable_skeleton("alice"));
  BOOST_REQUIRE(claim->key_frame);
  BOOST_TEST(claim->key_frame->text() ==
             R"({"type":"pubkey","sender":"alice","body":{"content":"PEM"}})"
             "\n");
  BOOST_TEST(!cturn::prepare_claim(unregistered(), username("alice"))->key_frame);
  BOOST_TEST(!cturn::prepare_claim(unregistered(), username("alice", "PEM", false))->key_frame);
}

BOOST_AUTO_TEST_CASE(a_taken_name_outranks_a_bad_key) {
  BOOST_TEST(cturn::claim_verdict(true, false) == cturn::protocol_error::username_taken);
  BOOST_TEST(cturn::claim_verdict(false, false) == cturn::protocol_error::public_key_invalid);
  BOOST_TEST(!cturn::claim_verdict(false, true));
  BOOST_TEST(cturn::claim_verdict(true, true) == cturn::protocol_error::username_taken);
}

BOOST_AUTO_TEST_SUITE_END()
