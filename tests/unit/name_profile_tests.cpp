#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "text/name_profile.hpp"

using cturn::follows_name_profile;

namespace {

struct refused_character {
  const char* what;
  std::string utf8;
};

// Each is invisible, or changes the layout or meaning of what follows, or
// has no agreed look: "alice" with one of them must not pass for "alice".
const std::vector<refused_character> refused_characters = {
    {"U+200B zero-width space", "\u200B"},   {"U+200C zero-width non-joiner", "\u200C"},
    {"U+200D zero-width joiner", "\u200D"},  {"U+2060 word joiner", "\u2060"},
    {"U+FEFF byte order mark", "\uFEFF"},    {"U+034F combining grapheme joiner", "\u034F"},
    {"U+00AD soft hyphen", "\u00AD"},        {"U+FE0F variation selector 16", "\uFE0F"},
    {"U+E0061 tag letter a", "\U000E0061"},  {"U+3164 Hangul filler", "\u3164"},
    {"U+00A0 no-break space", "\u00A0"},     {"U+3000 ideographic space", "\u3000"},
    {"U+200E left-to-right mark", "\u200E"}, {"U+202E right-to-left override", "\u202E"},
    {"U+2028 line separator", "\u2028"},     {"U+2029 paragraph separator", "\u2029"},
    {"U+E000 private use", "\uE000"},        {"U+0378 unassigned", "\u0378"},
    {"U+FFFF noncharacter", "\uFFFF"},       {"U+0009 control", "\t"},
};

const std::vector<std::string> international_names = {
    "Jos\u00E9",
    "Jose\u0301",  // precomposed and decomposed
    "Zo\u00EB",
    "\u0414\u043C\u0438\u0442\u0440\u0438\u0439",
    "\u674E\u5C0F\u9F99",
    "\u0645\u062D\u0645\u062F",
    "\u05D9\u05E9\u05E8\u05D0\u05DC",
    "\u00D1and\u00FA",
    "O'Brien",
    "anne-marie",
    "alice smith",
    "\U00020000",  // a CJK ideograph of 4 bytes
};

// FreeformClass, not IdentifierClass (RFC 8264 section 8): refused.
const std::vector<std::string> outside_identifier_class = {
    "\U0001F600",                            // an emoji (So)
    "price\u20AC",                           // euro sign (Sc)
    "a\u2192b",                              // an arrow (Sm)
    "\uFF47\uFF4F\uFF4F\uFF47\uFF4C\uFF45",  // full-width letters (HasCompat)
    "\uFB01le",                              // the fi ligature (HasCompat)
    "x\u00B2",                               // superscript two (HasCompat)
    "\u2160",                                // Roman numeral one (Nl)
    "\u00BD",                                // one half (No)
    "\u01C5",                                // title-case Dž (Lt)
    "\u00BFqu\u00E9",                        // inverted question mark (Po)
    "\u00ABhi\u00BB",                        // guillemets (Pi, Pf)
    "\u1100\u1161",                          // conjoining jamo
    "\u0640ali",                             // Arabic tatweel, refused by exception
    "l\u00B7l",                              // middle dot: CONTEXTO, not evaluated
};

}  // namespace

BOOST_AUTO_TEST_SUITE(name_profile)

BOOST_AUTO_TEST_CASE(refuses_each_invisible_or_unsafe_character_anywhere) {
  for (const auto& [what, character] : refused_characters) {
    BOOST_TEST_CONTEXT(what) {
      BOOST_TEST(!follows_name_profile("alice" + character));
      BOOST_TEST(!follows_name_profile(character + "alice"));
      BOOST_TEST(!follows_name_profile("al" + character + "ice"));
      BOOST_TEST(!follows_name_profile(character));
    }
  }
}

BOOST_AUTO_TEST_CASE(refuses_a_name_made_only_of_zero_width_spaces) {
  BOOST_TEST(!follows_name_profile("\u200B"));
  BOOST_TEST(!follows_name_profile("\u200B\u200B\u200B"));
  BOOST_TEST(!follows_name_profile(""));
}

BOOST_AUTO_TEST_CASE(refuses_a_leading_combining_mark_in_any_part) {
  BOOST_TEST(!follows_name_profile("\u0301alice"));
  BOOST_TEST(!follows_name_profile("\u20DDalice"));  // enclosing mark
  BOOST_TEST(!follows_name_profile("alice \u0301bob"));
  BOOST_TEST(follows_name_profile("alice\u0301"));
}

BOOST_AUTO_TEST_CASE(one_ascii_space_separates_parts) {
  BOOST_TEST(follows_name_profile("al ice"));
  BOOST_TEST(follows_name_profile("a b c"));
  BOOST_TEST(!follows_name_profile("al  ice"));
  BOOST_TEST(!follows_name_profile(" alice"));
  BOOST_TEST(!follows_name_profile("alice "));
  BOOST_TEST(!follows_name_profile(" "));
}

BOOST_AUTO_TEST_CASE(refuses_text_that_is_not_utf8) {
  BOOST_TEST(!follows_name_profile("al\xFFice"));
  BOOST_TEST(!follows_name_profile("\xC3"));          // cut short
  BOOST_TEST(!follows_name_profile("\xED\xA0\x80"));  // a surrogate
  BOOST_TEST(!follows_name_profile("\xC0\xAF"));      // overlong
}

BOOST_AUTO_TEST_CASE(refuses_what_only_the_freeform_class_allows) {
  for (const std::string& name : outside_identifier_class) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(!follows_name_profile(name));
    }
  }
  BOOST_TEST(follows_name_profile("stra\u00DFe"));  // ß: PVALID by exception
}

BOOST_AUTO_TEST_CASE(accepts_real_names_in_any_script) {
  for (const std::string& name : international_names) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(follows_name_profile(name));
    }
  }
}

BOOST_AUTO_TEST_CASE(right_to_left_names_follow_the_bidi_rule) {
  const std::string alef = "\u05D0";        // R
  const std::string bet = "\u05D1";         // R
  const std::string arabic = "\u0645";      // AL
  const std::string arabic_one = "\u0661";  // AN
  BOOST_TEST(follows_name_profile(alef + bet));
  BOOST_TEST(follows_name_profile(alef + bet + "\u05B0"));  // trailing mark (NSM)
  BOOST_TEST(follows_name_profile(arabic + arabic_one));    // ends in AN
  BOOST_TEST(follows_name_profile(alef + "2"));             // ends in EN
  BOOST_TEST(follows_name_profile(alef + "-" + bet));       // ES inside
  BOOST_TEST(follows_name_profile("alice " + alef + bet));  // each part by itself
  BOOST_TEST(follows_name_profile("alice2 " + alef));
  // Rule 1: starts with L, R or AL.
  BOOST_TEST(!follows_name_profile("1" + alef));
  BOOST_TEST(!follows_name_profile(arabic_one + arabic));
  BOOST_TEST(!follows_name_profile("-" + alef));
  // Rule 2: no L in a right-to-left part.
  BOOST_TEST(!follows_name_profile(alef + "a" + bet));
  // Rule 3: ends with R, AL, EN or AN (then marks).
  BOOST_TEST(!follows_name_profile(alef + "!"));
  BOOST_TEST(!follows_name_profile(alef + "-"));
  // Rule 4: not both EN and AN.
  BOOST_TEST(!follows_name_profile(arabic + "1" + arabic_one));
  // Rule 5: no R, AL or AN in a left-to-right part.
  BOOST_TEST(!follows_name_profile("a" + alef));
  BOOST_TEST(!follows_name_profile("a" + arabic_one + "b"));
  // Rule 6: a left-to-right part of such a name ends with L or EN.
  BOOST_TEST(!follows_name_profile("alice! " + alef));
  // Names without right-to-left characters are not held to it.
  BOOST_TEST(follows_name_profile("alice!"));
  BOOST_TEST(follows_name_profile("-alice"));
}

BOOST_AUTO_TEST_SUITE_END()
