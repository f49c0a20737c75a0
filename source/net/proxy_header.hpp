#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

namespace cturn {

// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2)
// that a load balancer puts before a connection's own bytes to say whose
// connection it is. Only I/O-free parsing lives here; the server decides
// whom to believe.

// A complete header.
struct proxy_header {
  // The client the proxy speaks for; empty when the connection is the
  // proxy's own (v2 LOCAL, e.g. a health check; v1 UNKNOWN; an address
  // family other than IPv4/IPv6), which then counts as coming from the proxy.
  std::optional<boost::asio::ip::tcp::endpoint> client;
  // How many bytes of the input the header took: the client's data follows.
  std::size_t length = 0;
};

// The input is a valid beginning of a header, but not all of it yet.
struct proxy_header_incomplete {};

// Not a header (or a header no conforming proxy writes); says why, for the log.
struct proxy_header_invalid {
  std::string_view why;
};

using proxy_header_result =
    std::variant<proxy_header, proxy_header_incomplete, proxy_header_invalid>;

// A v1 header is at most this long, CRLF included.
inline constexpr std::size_t proxy_v1_max_bytes = 107;
// A v2 header's fixed part; its length field says how much follows (< 64 KiB).
inline constexpr std::size_t proxy_v2_fixed_bytes = 16;

// Parses the header at the start of `input` (the bytes received so far).
// Decides as soon as it can: a first byte that starts neither version is
// invalid at once.
proxy_header_result parse_proxy_header(std::span<const char> input);

}  // namespace cturn
