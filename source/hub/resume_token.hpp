#pragma once

#include <array>
#include <string>
#include <string_view>

namespace cturn {

// The secret a client gets in the welcome to its `username` and may show
// later to take its name back (see docs/protocol.md, "Resume"). The server
// keeps only its SHA-256 digest: a copy of the hub's memory or of Redis does
// not hand anyone a session.
inline constexpr std::size_t resume_token_bytes = 16;                       // 128 random bits
inline constexpr std::size_t resume_token_length = 2 * resume_token_bytes;  // in lowercase hex

using resume_digest = std::array<unsigned char, 32>;

struct resume_token {
  std::string text;  // what the client gets; never logged
  resume_digest digest{};
};

// A fresh token from the operating system's CSPRNG (OpenSSL's RAND_bytes).
// Throws if the generator fails: a guessable token would be worse than none.
resume_token make_resume_token();

// Whether `text` has a token's form: exactly 32 lowercase hex digits.
bool looks_like_resume_token(std::string_view text) noexcept;

resume_digest digest_of_resume_token(std::string_view text);
// In lowercase hex, as the cluster stores it in Redis.
std::string hex_of(const resume_digest& digest);

// Compares in constant time, so that the time an answer takes tells nothing
// about how much of a digest matched.
bool same_resume_digest(const resume_digest& a, const resume_digest& b) noexcept;

}  // namespace cturn
