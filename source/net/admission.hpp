#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "net/connection_registry.hpp"
#include "net/source_limiter.hpp"

namespace cturn {

// What the server hands a session it admits: its number, its places in the
// counts the connection caps are checked against (held until it ends), and
// who the client is.
struct admission {
  std::uint64_t id = 0;
  connection_registry::slot connection;
  source_limiter::slot source;
  // The peer, or behind a trusted proxy the client its PROXY header names.
  boost::asio::ip::tcp::endpoint client;
  // The trusted proxy the connection came through, if any.
  std::optional<boost::asio::ip::tcp::endpoint> proxy;
  // Bytes the client sent after the PROXY header, read with it.
  std::string early_input;
};

}  // namespace cturn
