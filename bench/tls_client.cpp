#include "tls_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace cturn::bench {
namespace {

std::string openssl_error(std::string_view fallback) {
  char text[256] = {};
  if (const unsigned long code = ERR_peek_error(); code != 0) {
    ERR_error_string_n(code, text, sizeof text);
    return text;
  }
  return std::string(fallback);
}

}  // namespace

tls_client_context::tls_client_context() : context_(SSL_CTX_new(TLS_client_method())) {
  if (context_ == nullptr) {
    error_ = openssl_error("SSL_CTX_new failed");
    ERR_clear_error();
    return;
  }
  SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  // Fill OpenSSL's buffer with whatever the socket holds: one recv per
  // batch of records instead of two per record (header, then body).
  SSL_CTX_set_read_ahead(context_, 1);
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_OFF);
}

tls_client_context::~tls_client_context() {
  SSL_CTX_free(context_);
}

tls_client::tls_client(SSL_CTX* context, int descriptor) : ssl_(SSL_new(context)) {
  // SSL_set_fd's BIO does not own the descriptor: the socket closes it.
  if (ssl_ == nullptr || SSL_set_fd(ssl_, descriptor) != 1) {
    SSL_free(ssl_);
    ERR_clear_error();
    throw std::bad_alloc();
  }
  SSL_set_connect_state(ssl_);
}

tls_client::~tls_client() {
  SSL_free(ssl_);
}

tls_client::step tls_client::handshake() {
  const int status = SSL_do_handshake(ssl_);
  return status == 1 ? step::done : outcome(status);
}

tls_client::step tls_client::read_some(std::span<char> into, std::size_t& got) {
  got = 0;
  const int status = SSL_read_ex(ssl_, into.data(), into.size(), &got);
  return status == 1 ? step::done : outcome(status);
}

tls_client::step tls_client::write(std::span<const char> bytes) {
  std::size_t put = 0;
  const int status = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &put);
  return status == 1 ? step::done : outcome(status);
}

tls_client::step tls_client::outcome(int status) {
  const int saved_errno = errno;
  step result = step::failed;
  switch (SSL_get_error(ssl_, status)) {
    case SSL_ERROR_WANT_READ:
      return step::want_read;
    case SSL_ERROR_WANT_WRITE:
      return step::want_write;
    case SSL_ERROR_ZERO_RETURN:
      failure_ = "closed by the server (close_notify)";
      result = step::closed;
      break;
    case SSL_ERROR_SYSCALL:
      failure_ = saved_errno != 0 ? std::strerror(saved_errno) : "closed by the server";
      result = step::closed;
      break;
    default:
      failure_ = openssl_error("TLS protocol error");
      break;
  }
  // The error queue is per thread and this one serves every connection.
  ERR_clear_error();
  return result;
}

std::string_view tls_client::version() const {
  return SSL_get_version(ssl_);
}

std::string_view tls_client::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

}  // namespace cturn::bench
