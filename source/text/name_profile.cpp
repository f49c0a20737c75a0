#include "text/name_profile.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace cturn {
namespace {

constexpr UChar32 part_separator = 0x20;

// RFC 8264's IdentifierClass beyond ASCII (section 8, with RFC 5892's
// exceptions): letters, digits and marks only (LetterDigits), none with a
// compatibility decomposition (HasCompat: full-width forms, ligatures,
// circled and superscript letters), no old Hangul jamo. Symbols (emoji, `€`),
// punctuation, and OtherLetterDigits (Lt, Nl, No, Me) are FreeformClass only.
// Context rules (CONTEXTO: the middle dot, Greek and Hebrew marks, the
// katakana middle dot) are not evaluated: those characters are refused,
// which is stricter.
bool outside_identifier_class(UChar32 c) {
  if (c >= 0x21 && c <= 0x7E)
    return false;  // ASCII7
  switch (c) {
    case 0x00DF:     // ß
    case 0x03C2:     // final sigma
    case 0x06FD:     // Sindhi ampersand
    case 0x06FE:     // Sindhi postposition men
    case 0x0F0B:     // Tibetan intersyllabic tsheg
    case 0x3007:     // ideographic number zero
      return false;  // PVALID by exception
    case 0x0640:     // Arabic tatweel
    case 0x07FA:     // NKo lajanyalan
    case 0x302E:     // Hangul single dot tone mark
    case 0x302F:     // Hangul double dot tone mark
    case 0x3031:
    case 0x3032:
    case 0x3033:
    case 0x3034:
    case 0x3035:    // vertical kana repeat marks
    case 0x303B:    // vertical ideographic iteration mark
      return true;  // DISALLOWED by exception
    default:
      break;
  }
  const auto decomposition = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
  if (decomposition != U_DT_NONE && decomposition != U_DT_CANONICAL)
    return true;
  const auto jamo = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
  if (jamo == U_HST_LEADING_JAMO || jamo == U_HST_VOWEL_JAMO || jamo == U_HST_TRAILING_JAMO)
    return true;
  constexpr std::uint32_t letter_digits = U_GC_LL_MASK | U_GC_LU_MASK | U_GC_LO_MASK |
                                          U_GC_ND_MASK | U_GC_LM_MASK | U_GC_MN_MASK | U_GC_MC_MASK;
  return (U_GET_GC_MASK(c) & letter_digits) == 0;
}

bool is_refused_code_point(UChar32 c) {
  // Noncharacters are unassigned (Cn) too; asked for by name all the same.
  if (is_invisible(static_cast<char32_t>(c)) ||
      u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT))
    return true;
  if (c != part_separator && outside_identifier_class(c))
    return true;
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
    case U_SURROGATE:
      return true;
    case U_SPACE_SEPARATOR:
      return c != part_separator;
    default:
      return false;
  }
}

bool is_combining_mark(UChar32 c) {
  return (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0;
}

bool is_right_to_left(UChar32 c) {
  const UCharDirection direction = u_charDirection(c);
  return direction == U_RIGHT_TO_LEFT || direction == U_RIGHT_TO_LEFT_ARABIC ||
         direction == U_ARABIC_NUMBER;
}

bool is_any_of(UCharDirection direction, std::initializer_list<UCharDirection> classes) {
  return std::find(classes.begin(), classes.end(), direction) != classes.end();
}

// RFC 5893 section 2, rules 1 to 6, for one part.
bool follows_bidi_rule(std::span<const UChar32> part) {
  const UCharDirection first = u_charDirection(part.front());
  const bool right_to_left = first == U_RIGHT_TO_LEFT || first == U_RIGHT_TO_LEFT_ARABIC;
  if (!right_to_left && first != U_LEFT_TO_RIGHT)
    return false;
  bool european_number = false;
  bool arabic_number = false;
  UCharDirection last = first;
  for (const UChar32 c : part) {
    const UCharDirection direction = u_charDirection(c);
    const bool allowed =
        is_any_of(direction, {U_EUROPEAN_NUMBER, U_EUROPEAN_NUMBER_SEPARATOR,
                              U_COMMON_NUMBER_SEPARATOR, U_EUROPEAN_NUMBER_TERMINATOR,
                              U_OTHER_NEUTRAL, U_BOUNDARY_NEUTRAL, U_DIR_NON_SPACING_MARK}) ||
        (right_to_left
             ? is_any_of(direction, {U_RIGHT_TO_LEFT, U_RIGHT_TO_LEFT_ARABIC, U_ARABIC_NUMBER})
             : direction == U_LEFT_TO_RIGHT);
    if (!allowed)
      return false;
    european_number = european_number || direction == U_EUROPEAN_NUMBER;
    arabic_number = arabic_number || direction == U_ARABIC_NUMBER;
    // Rules 3 and 6 look at the end before any trailing marks.
    if (direction != U_DIR_NON_SPACING_MARK)
      last = direction;
  }
  if (right_to_left)
    return !(european_number && arabic_number) &&
           is_any_of(last,
                     {U_RIGHT_TO_LEFT, U_RIGHT_TO_LEFT_ARABIC, U_EUROPEAN_NUMBER, U_ARABIC_NUMBER});
  return last == U_LEFT_TO_RIGHT || last == U_EUROPEAN_NUMBER;
}

// The code points of `utf8`, or nothing if it is not well-formed UTF-8.
std::vector<UChar32> code_points(std::string_view utf8) {
  std::vector<UChar32> out;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(utf8.data());
  const auto length = static_cast<std::int32_t>(utf8.size());
  for (std::int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    if (c < 0)
      return {};
    out.push_back(c);
  }
  return out;
}

}  // namespace

bool is_invisible(char32_t code_point) {
  const auto c = static_cast<UChar32>(code_point);
  return u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
         u_charType(c) == U_FORMAT_CHAR;
}

bool follows_name_profile(std::string_view utf8) {
  const std::vector<UChar32> name = code_points(utf8);
  if (name.empty() || std::any_of(name.begin(), name.end(), is_refused_code_point))
    return false;
  const bool bidi_name = std::any_of(name.begin(), name.end(), is_right_to_left);
  for (auto begin = name.begin();;) {
    const auto end = std::find(begin, name.end(), part_separator);
    const std::span<const UChar32> part(begin, end);
    // An empty part is a leading, trailing or repeated space.
    if (part.empty() || is_combining_mark(part.front()))
      return false;
    if (bidi_name && !follows_bidi_rule(part))
      return false;
    if (end == name.end())
      return true;
    begin = end + 1;
  }
}

}  // namespace cturn
