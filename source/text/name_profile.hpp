#pragma once

#include <string_view>

namespace cturn {

// Whether `utf8` is a name by the PRECIS UsernameCasePreserved profile
// (RFC 8264/8265) as far as what a reader cannot see or misreads: it is
// refused if it is not UTF-8 or holds
// - a control, format (Cf) or default-ignorable code point (zero-width
//   characters, joiners, soft hyphen, variation selectors, tag characters,
//   Hangul fillers, bidi marks, embeddings, overrides and isolates);
// - a space other than U+0020, a line or a paragraph separator;
// - a private-use, unassigned or noncharacter code point.
// U+0020 only separates parts (RFC 8265's userparts): one space between two
// non-empty parts. No part starts with a combining mark, and if the name holds
// a right-to-left character (bidi class R, AL or AN) each part follows the
// Bidi Rule of RFC 5893.
bool follows_name_profile(std::string_view utf8);

// True for a code point a reader cannot see: default-ignorable or format (Cf).
bool is_invisible(char32_t code_point);

}  // namespace cturn
