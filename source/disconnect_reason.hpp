#pragma once

#include <string_view>

namespace cturn {

// Why a connection ended, as the session saw it. Logs read its text, the
// metrics its coarser label (metrics::label_of_reason); neither matches text.
enum class disconnect_reason {
  eof,                // the peer closed its side
  reset,              // the peer reset the connection
  broken_pipe,        // a write found the peer gone
  keepalive_timeout,  // the kernel gave up on a silent peer
  closed,             // the socket was closed under a pending operation
  network_error,      // any other socket error
  line_too_long,
  slow_consumer,
  over_output_budget,  // shed: the server held more output than --max-buffered-bytes
  closed_by_server,
  close_deadline,
  internal_error,
  tls_required,          // a plain client on a server that takes TLS only
  tls_not_offered,       // a TLS ClientHello on a server without a certificate
  tls_handshake_failed,  // the handshake broke or did not finish in time
};

// The reason as logs spell it.
std::string_view log_text(disconnect_reason reason) noexcept;

}  // namespace cturn
