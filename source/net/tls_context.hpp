#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <tl/expected.hpp>

namespace cturn {

// A certificate chain and its private key, ready for handshakes.
struct tls_identity {
  // Every connection's SSL holds its own reference to the context it was
  // made from, so one replaced here lives on exactly as long as they do.
  std::shared_ptr<SSL_CTX> context;
  std::int64_t expires_at = 0;  // the leaf certificate's notAfter, seconds since the epoch
};

// Loads `certificate_file` (PEM: the leaf certificate first, then any
// intermediates) and `key_file` (PEM) into a fresh server context with the
// server's protocol policy, and checks that the key belongs to the
// certificate. On failure, a message fit for an operator.
tl::expected<tls_identity, std::string> load_tls_identity(const std::string& certificate_file,
                                                          const std::string& key_file);

// The identity new handshakes use. Reloading replaces it as a whole, and only
// with a pair that loaded and matched: a handshake sees the old pair or the
// new one, never a mix, and open connections keep what they started with.
class tls_identity_store {
 public:
  tls_identity_store(std::string certificate_file, std::string key_file, tls_identity first);

  // A reference to the current context, safe from any thread.
  std::shared_ptr<SSL_CTX> context() const;
  std::int64_t expires_at() const;

  // Reads the files again. On failure the current identity stays and the
  // message says why.
  tl::expected<std::int64_t, std::string> reload();

 private:
  const std::string certificate_file_;
  const std::string key_file_;
  mutable std::mutex mutex_;
  tls_identity current_;
};

}  // namespace cturn
