#include "disconnect_reason.hpp"

namespace cturn {

std::string_view log_text(disconnect_reason reason) noexcept {
  switch (reason) {
    case disconnect_reason::eof:
      return "eof";
    case disconnect_reason::reset:
      return "reset";
    case disconnect_reason::broken_pipe:
      return "broken pipe";
    case disconnect_reason::keepalive_timeout:
      return "keepalive timeout";
    case disconnect_reason::closed:
      return "closed";
    case disconnect_reason::network_error:
      return "network error";
    case disconnect_reason::line_too_long:
      return "line too long";
    case disconnect_reason::slow_consumer:
      return "slow consumer";
    case disconnect_reason::over_output_budget:
      return "over output budget";
    case disconnect_reason::closed_by_server:
      return "closed by server";
    case disconnect_reason::close_deadline:
      return "close deadline";
    case disconnect_reason::internal_error:
      return "internal error";
    case disconnect_reason::tls_required:
      return "TLS required";
    case disconnect_reason::tls_not_offered:
      return "TLS not offered";
    case disconnect_reason::tls_handshake_failed:
      return "TLS handshake failed";
  }
  return "unknown";
}

}  // namespace cturn
