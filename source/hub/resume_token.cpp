#include "hub/resume_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace cturn {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

template <typename Bytes>
std::string to_hex(const Bytes& bytes) {
  std::string text;
  text.reserve(2 * bytes.size());
  for (const unsigned char byte : bytes) {
    text.push_back(hex_digits[byte >> 4]);
    text.push_back(hex_digits[byte & 0x0f]);
  }
  return text;
}

}  // namespace

resume_token make_resume_token() {
  std::array<unsigned char, resume_token_bytes> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    throw std::runtime_error("no random bytes for a resume token");
  resume_token token;
  token.text = to_hex(random);
  token.digest = digest_of_resume_token(token.text);
  return token;
}

bool looks_like_resume_token(std::string_view text) noexcept {
  if (text.size() != resume_token_length)
    return false;
  for (const char c : text) {
    if (hex_digits.find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

resume_digest digest_of_resume_token(std::string_view text) {
  resume_digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size())
    throw std::runtime_error("SHA-256 failed");
  return digest;
}

std::string hex_of(const resume_digest& digest) {
  return to_hex(digest);
}

bool same_resume_digest(const resume_digest& a, const resume_digest& b) noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cturn
