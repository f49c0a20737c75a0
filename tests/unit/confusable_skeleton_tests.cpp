#include <boost/test/unit_test.hpp>
#include <string>

#include "text/confusable_skeleton.hpp"

using cturn::confusable_skeleton;

namespace {

bool look_alike(const std::string& a, const std::string& b) {
  return confusable_skeleton(a) == confusable_skeleton(b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(confusable_skeleton_suite)

BOOST_AUTO_TEST_CASE(latin_cyrillic_and_greek_look_alikes) {
  BOOST_TEST(look_alike("paypal", "p\u0430ypal"));                    // Cyrillic а
  BOOST_TEST(look_alike("paypal", "\u0440\u0430ypal"));               // Cyrillic р and а
  BOOST_TEST(look_alike("bob", "b\u03BFb"));                          // Greek omicron
  BOOST_TEST(look_alike("ABE", "\u0391\u0392\u0395"));                // Greek capitals
  BOOST_TEST(look_alike("scope", "\u0455\u0441\u043E\u0440\u0435"));  // all Cyrillic
}

BOOST_AUTO_TEST_CASE(letter_sequences_that_read_as_one) {
  BOOST_TEST(look_alike("modern", "rnodern"));
  BOOST_TEST(look_alike("m", "rn"));
}

BOOST_AUTO_TEST_CASE(full_width_forms) {
  BOOST_TEST(look_alike("paypal", "\uFF50\uFF41\uFF59\uFF50\uFF41\uFF4C"));
}

BOOST_AUTO_TEST_CASE(combining_marks_and_precomposed_letters) {
  BOOST_TEST(look_alike("caf\u00E9", "cafe\u0301"));  // NFC makes them one
  BOOST_TEST(look_alike("e\u0301", "\u00E9"));
}

// ICU keeps them in the skeleton; a name with one must still match.
BOOST_AUTO_TEST_CASE(invisible_characters_do_not_count) {
  for (const std::string invisible :
       {"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u034F", "\u00AD", "\uFE0F",
        "\U000E0061", "\u3164", "\u200E", "\u202E", "\u2066"}) {
    BOOST_TEST_CONTEXT("after 'alice', " << invisible.size() << " bytes") {
      BOOST_TEST(look_alike("alice", "alice" + invisible));
      BOOST_TEST(look_alike("alice", "al" + invisible + "ice"));
      BOOST_TEST(look_alike("lobby", invisible + "lobb\u0443"));  // and Cyrillic у
    }
  }
}

BOOST_AUTO_TEST_CASE(different_names_stay_different) {
  BOOST_TEST(!look_alike("alice", "Alice"));  // case-sensitive otherwise
  BOOST_TEST(!look_alike("alice", "alicia"));
  BOOST_TEST(!look_alike("cafe", "caf\u00E9"));
  BOOST_TEST(!look_alike("bob", "b\u00F6b"));
}

BOOST_AUTO_TEST_CASE(a_name_is_its_own_look_alike) {
  BOOST_TEST(look_alike("alice", "alice"));
  BOOST_TEST(!confusable_skeleton("alice").empty());
}

BOOST_AUTO_TEST_SUITE_END()
