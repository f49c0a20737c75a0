#include "net/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <cerrno>
#include <new>

namespace cturn {
namespace {

namespace asio = boost::asio;

bool would_block(int code) {
  return code == EAGAIN || code == EWOULDBLOCK || code == EINTR;
}

// The BIO's callbacks. Its data is the tls_stream's source.
template <typename Source>
int read_source(BIO* bio, char* out, std::size_t size, std::size_t* got) {
  auto& from = *static_cast<Source*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (!from.prefix.empty()) {
    const std::size_t taken = std::min(size, from.prefix.size());
    std::copy_n(from.prefix.data(), taken, out);
    from.prefix.erase(0, taken);
    if (from.prefix.empty())
      std::string().swap(from.prefix);
    *got = taken;
    return 1;
  }
  const ssize_t received = ::recv(from.descriptor, out, size, 0);
  if (received > 0) {
    *got = static_cast<std::size_t>(received);
    return 1;
  }
  if (received < 0 && would_block(errno))
    BIO_set_retry_read(bio);
  return 0;
}

template <typename Source>
int write_source(BIO* bio, const char* bytes, std::size_t size, std::size_t* put) {
  auto& to = *static_cast<Source*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t sent = ::send(to.descriptor, bytes, size, MSG_NOSIGNAL);
  if (sent >= 0) {
    *put = static_cast<std::size_t>(sent);
    return 1;
  }
  if (would_block(errno))
    BIO_set_retry_write(bio);
  return 0;
}

long control_source(BIO*, int command, long, void*) {
  // Writes go straight to the socket: there is never anything to flush.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

template <typename Source>
BIO_METHOD* source_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cturn socket");
    if (made == nullptr)
      return made;
    BIO_meth_set_read_ex(made, read_source<Source>);
    BIO_meth_set_write_ex(made, write_source<Source>);
    BIO_meth_set_ctrl(made, control_source);
    return made;
  }();
  return method;
}

}  // namespace

tls_stream::tls_stream(SSL_CTX* context, int descriptor, std::string prefix)
    : source_{descriptor, std::move(prefix)}, ssl_(SSL_new(context)) {
  BIO_METHOD* method = source_method<source>();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (ssl_ == nullptr || bio == nullptr) {
    BIO_free(bio);
    SSL_free(ssl_);
    ERR_clear_error();
    throw std::bad_alloc();
  }
  BIO_set_data(bio, &source_);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_accept_state(ssl_);
}

tls_stream::~tls_stream() {
  SSL_free(ssl_);
}

tls_stream::handshake_result tls_stream::handshake() {
  const int status = SSL_do_handshake(ssl_);
  if (status == 1) {
    waiting_for_ = want::nothing;
    return handshake_result::done;
  }
  boost::system::error_code error;
  fail_with(status, error);
  if (error == asio::error::would_block)
    return handshake_result::in_progress;
  if (error == asio::error::eof || error == asio::error::connection_reset ||
      error == asio::error::broken_pipe) {
    failure_ = error.message();
    return handshake_result::closed;
  }
  return handshake_result::protocol_error;
}

std::size_t tls_stream::read_some(std::span<char> into, boost::system::error_code& error) {
  std::size_t got = 0;
  const int status = SSL_read_ex(ssl_, into.data(), into.size(), &got);
  if (status == 1) {
    error = {};
    return got;
  }
  fail_with(status, error);
  return 0;
}

void tls_stream::write(std::span<const char> bytes, boost::system::error_code& error) {
  std::size_t put = 0;
  const int status = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &put);
  if (status == 1) {
    error = {};
    return;
  }
  fail_with(status, error);
}

void tls_stream::fail_with(int status, boost::system::error_code& error) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, status)) {
    case SSL_ERROR_WANT_READ:
      waiting_for_ = want::read;
      error = asio::error::would_block;
      return;
    case SSL_ERROR_WANT_WRITE:
      waiting_for_ = want::write;
      error = asio::error::would_block;
      return;
    case SSL_ERROR_ZERO_RETURN:
      error = asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL:
      if (saved_errno == ECONNRESET)
        error = asio::error::connection_reset;
      else if (saved_errno == EPIPE)
        error = asio::error::broken_pipe;
      else
        error = asio::error::eof;  // closed without a close_notify
      break;
    default: {
      char text[256] = "TLS protocol error";
      if (const unsigned long code = ERR_peek_error(); code != 0)
        ERR_error_string_n(code, text, sizeof text);
      failure_ = text;
      error = asio::error::fault;
      break;
    }
  }
  waiting_for_ = want::nothing;
  // OpenSSL's error queue is per thread: what this connection left in it
  // must not be read as the next connection's error.
  ERR_clear_error();
}

void tls_stream::send_close_notify() {
  if (SSL_is_init_finished(ssl_) != 1)
    return;
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string_view tls_stream::version() const {
  return SSL_get_version(ssl_);
}

std::string_view tls_stream::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

}  // namespace cturn
