#include "text/confusable_skeleton.hpp"

#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <memory>

#include "text/name_profile.hpp"

namespace cturn {
namespace {

struct spoof_checker_closer {
  void operator()(USpoofChecker* checker) const { uspoof_close(checker); }
};

// One checker for the process: uspoof_getSkeleton only reads it, which ICU
// allows from any number of threads at once.
const USpoofChecker* shared_checker() {
  static const std::unique_ptr<USpoofChecker, spoof_checker_closer> checker = [] {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker* opened = uspoof_open(&status);
    if (U_FAILURE(status)) {
      uspoof_close(opened);
      opened = nullptr;
    }
    return std::unique_ptr<USpoofChecker, spoof_checker_closer>(opened);
  }();
  return checker.get();
}

// `text` without what a reader cannot see (is_invisible). ICU's skeleton
// keeps it, so "alice" and "alice" with a zero-width space would differ.
icu::UnicodeString without_ignorables(const icu::UnicodeString& text) {
  icu::UnicodeString visible;
  for (std::int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if (!is_invisible(static_cast<char32_t>(c)))
      visible.append(c);
  }
  return visible;
}

}  // namespace

std::string confusable_skeleton(std::string_view utf8) {
  const USpoofChecker* checker = shared_checker();
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (checker == nullptr || U_FAILURE(status))
    return std::string(utf8);
  const icu::UnicodeString name = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<std::int32_t>(utf8.size())));
  const icu::UnicodeString normalized = without_ignorables(nfc->normalize(name, status));
  icu::UnicodeString skeleton;
  // The type argument is ignored since ICU 58 (one skeleton for all).
  uspoof_getSkeletonUnicodeString(checker, 0, normalized, skeleton, &status);
  if (U_FAILURE(status))
    return std::string(utf8);
  std::string out;
  skeleton.toUTF8String(out);
  return out;
}

}  // namespace cturn
