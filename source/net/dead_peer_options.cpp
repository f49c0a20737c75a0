#include "net/dead_peer_options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace cturn {
namespace {

namespace asio = boost::asio;

// An integer option at IPPROTO_TCP level, in the shape Asio's set_option takes.
struct tcp_integer_option {
  int option_name;
  int value;

  template <typename Protocol>
  int level(const Protocol&) const {
    return IPPROTO_TCP;
  }
  template <typename Protocol>
  int name(const Protocol&) const {
    return option_name;
  }
  template <typename Protocol>
  const int* data(const Protocol&) const {
    return &value;
  }
  template <typename Protocol>
  std::size_t size(const Protocol&) const {
    return sizeof(value);
  }
};

}  // namespace

boost::system::error_code set_dead_peer_options(asio::ip::tcp::socket& socket,
                                                const std::optional<dead_peer_timing>& timing) {
  boost::system::error_code error;
  socket.set_option(asio::socket_base::keep_alive(true), error);
  if (error || !timing)
    return error;
  const tcp_integer_option options[] = {
      {TCP_KEEPIDLE, static_cast<int>(timing->idle.count())},
      {TCP_KEEPINTVL, static_cast<int>(timing->interval.count())},
      {TCP_KEEPCNT, timing->probes},
      // Keepalive probes stop while sent data waits for its acknowledgement;
      // this bounds that wait, which retransmissions alone stretch to about
      // 15 minutes (tcp_retries2).
      {TCP_USER_TIMEOUT, static_cast<int>(timing->user_timeout.count())},
  };
  for (const tcp_integer_option& option : options) {
    socket.set_option(option, error);
    if (error)
      return error;
  }
  return error;
}

}  // namespace cturn
