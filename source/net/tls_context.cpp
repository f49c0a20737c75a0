#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <utility>

namespace cturn {
namespace {

// TLS 1.2 suites: ephemeral ECDH key exchange (forward secrecy) with an AEAD
// cipher only, the two key types, strongest-but-fast first. No CBC suites
// (padding oracles, Lucky 13), no static RSA key exchange (no forward
// secrecy), no finite-field DHE (slow, and clients that lack ECDHE lack
// TLS 1.2 too). It is Mozilla's "intermediate" list without DHE.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Every TLS 1.3 suite is AEAD with forward secrecy; OpenSSL's default set,
// written out so that a changed default cannot widen it.
constexpr const char* tls13_ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// The oldest error OpenSSL queued on this thread, as text, and an empty queue.
std::string openssl_error() {
  const unsigned long code = ERR_peek_error();
  char text[256] = "unknown error";
  if (code != 0)
    ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

std::int64_t not_after(const SSL_CTX* context) {
  const X509* leaf = SSL_CTX_get0_certificate(context);
  std::tm expiry{};
  if (leaf == nullptr || ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &expiry) != 1)
    return 0;
  return static_cast<std::int64_t>(timegm(&expiry));
}

}  // namespace

tl::expected<tls_identity, std::string> load_tls_identity(const std::string& certificate_file,
                                                          const std::string& key_file) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!context)
    return tl::unexpected("cannot create a TLS context: " + openssl_error());
  SSL_CTX* raw = context.get();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  // Idle connections give their record buffers back (see tls_stream).
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  // Client-initiated renegotiation is a CPU lever for attackers and unused.
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // A client that closes without a close_notify has only ended its stream:
  // a line protocol cannot be truncated unnoticed (a cut line has no '\n').
  SSL_CTX_set_options(raw, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Read what the socket has, not a record header then its body: half the
  // system calls. The buffer is still given back when empty.
  SSL_CTX_set_read_ahead(raw, 1);
  // Chat connections live long and reconnect rarely: no resumption, so no
  // session cache growing with the connections and no tickets to send.
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(raw, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(raw, 0);
  if (SSL_CTX_set_cipher_list(raw, tls12_ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(raw, tls13_ciphers) != 1)
    return tl::unexpected("cannot set the cipher list: " + openssl_error());
  if (SSL_CTX_use_certificate_chain_file(raw, certificate_file.c_str()) != 1)
    return tl::unexpected("cannot load the certificate chain " + certificate_file + ": " +
                          openssl_error());
  // OpenSSL checks the key against the certificate as it loads it.
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH ||
        SSL_CTX_get0_privatekey(raw) != nullptr)
      return tl::unexpected("the private key " + key_file + " does not match the certificate " +
                            certificate_file + ": " + openssl_error());
    return tl::unexpected("cannot load the private key " + key_file + ": " + openssl_error());
  }
  const std::int64_t expires_at = not_after(raw);
  // Loading may leave notes in this thread's error queue; an I/O thread
  // (the control strand runs on one) would read them as a connection's error.
  ERR_clear_error();
  return tls_identity{std::move(context), expires_at};
}

tls_identity_store::tls_identity_store(std::string certificate_file, std::string key_file,
                                       tls_identity first)
    : certificate_file_(std::move(certificate_file)),
      key_file_(std::move(key_file)),
      current_(std::move(first)) {}

std::shared_ptr<SSL_CTX> tls_identity_store::context() const {
  const std::lock_guard lock(mutex_);
  return current_.context;
}

std::int64_t tls_identity_store::expires_at() const {
  const std::lock_guard lock(mutex_);
  return current_.expires_at;
}

tl::expected<std::int64_t, std::string> tls_identity_store::reload() {
  auto loaded = load_tls_identity(certificate_file_, key_file_);
  if (!loaded)
    return tl::unexpected(std::move(loaded.error()));
  const std::int64_t expires_at = loaded->expires_at;
  tls_identity previous;
  {
    const std::lock_guard lock(mutex_);
    previous = std::exchange(current_, std::move(*loaded));
  }
  // `previous` goes now, its context once the last connection using it ends.
  return expires_at;
}

}  // namespace cturn
