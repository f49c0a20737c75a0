#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace cturn::bench {

// The client side of TLS for the load generator: OpenSSL on the connection's
// own non-blocking socket (a socket BIO, no copies through a BIO pair), the
// way the server drives it. The generator waits for readiness itself, so a
// TLS connection costs it what the cipher and OpenSSL's records cost and no
// more, and its own CPU stays far from being the bottleneck.
//
// No certificate verification: the benchmark's server uses a throw-away
// self-signed certificate, and what is measured is the cost of the records,
// not of trust.
class tls_client_context {
 public:
  tls_client_context();
  ~tls_client_context();
  tls_client_context(const tls_client_context&) = delete;
  tls_client_context& operator=(const tls_client_context&) = delete;

  // Null when OpenSSL could not make the context; error() says why.
  SSL_CTX* get() const { return context_; }
  const std::string& error() const { return error_; }

 private:
  SSL_CTX* context_;
  std::string error_;
};

class tls_client {
 public:
  // What a call came to: done, or the socket readiness it waits for, or the end.
  enum class step { done, want_read, want_write, closed, failed };

  // Throws std::bad_alloc when OpenSSL cannot allocate the connection.
  tls_client(SSL_CTX* context, int descriptor);
  ~tls_client();
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;

  step handshake();
  // Decrypted bytes into `into`; `got` is set when done.
  step read_some(std::span<char> into, std::size_t& got);
  // All of `bytes`; after want_*, call again with the same bytes.
  step write(std::span<const char> bytes);

  // Why the last call failed (failed or closed), for the report.
  const std::string& failure() const { return failure_; }
  std::string_view version() const;
  std::string_view cipher() const;

 private:
  step outcome(int status);

  SSL* ssl_;
  std::string failure_;
};

}  // namespace cturn::bench
