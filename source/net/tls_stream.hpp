#pragma once

#include <openssl/types.h>

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace cturn {

// The server's side of one TLS connection, over a non-blocking socket that
// the session owns and waits on. OpenSSL reads and writes the descriptor
// itself, through a small BIO that first hands out `prefix`: the bytes read
// before the connection was known to be TLS (its first bytes, or what came
// with a PROXY header). There is no buffer of our own: with
// SSL_MODE_RELEASE_BUFFERS an idle connection keeps only OpenSSL's state
// (Asio's ssl::stream keeps two 17 KiB buffers per connection for life).
//
// Not thread-safe: the session calls it from its strand only.
class tls_stream {
 public:
  // What a call that could not finish is waiting for.
  enum class want { nothing, read, write };
  enum class handshake_result { done, in_progress, protocol_error, closed };

  // Throws std::bad_alloc when OpenSSL cannot allocate the connection.
  tls_stream(SSL_CTX* context, int descriptor, std::string prefix);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  // One step of the handshake; in_progress: wait for waiting_for(), then call again.
  handshake_result handshake();
  // Why the handshake failed, for the log.
  const std::string& failure() const { return failure_; }

  // Decrypted bytes, like a non-blocking socket read: would_block when none
  // are ready (then wait for waiting_for()), eof when the client closed.
  std::size_t read_some(std::span<char> into, boost::system::error_code& error);
  // All of `bytes` in records; would_block: wait for waiting_for() and call
  // again with the same bytes.
  void write(std::span<const char> bytes, boost::system::error_code& error);
  want waiting_for() const { return waiting_for_; }

  // Queues a close_notify alert where the socket has room; never waits.
  void send_close_notify();

  std::string_view version() const;
  std::string_view cipher() const;

 private:
  // The BIO's view of the connection.
  struct source {
    int descriptor;
    std::string prefix;
  };

  // Maps the result of an SSL call that returned `status` to an error code.
  void fail_with(int status, boost::system::error_code& error);

  source source_;
  SSL* ssl_;
  want waiting_for_ = want::nothing;
  std::string failure_;
};

}  // namespace cturn
