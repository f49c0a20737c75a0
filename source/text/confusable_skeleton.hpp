#pragma once

#include <string>
#include <string_view>

namespace cturn {

// The UTS #39 confusable skeleton of `utf8` (after NFC, and without its
// default-ignorable and format characters, which ICU keeps), from ICU: two names
// with the same skeleton look alike ("paypal" with a Cyrillic "а", "rn" and
// "m", full-width letters, "l" and "I"), so only one of them may be in use.
// Names stay case-sensitive otherwise: "alice" and "Alice" differ.
// Text ICU cannot process (not UTF-8) is its own skeleton.
std::string confusable_skeleton(std::string_view utf8);

}  // namespace cturn
