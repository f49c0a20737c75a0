#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wire.hpp"

namespace cturn::bench {

enum class mode { broadcast, directed, idle, jitter };

struct options {
  std::string host = "127.0.0.1";
  // Several ports: the nodes of one cluster. Member m of every room connects
  // to ports[m % ports.size()], so that a room's fan-out crosses the nodes.
  std::vector<std::uint16_t> ports = {1337};
  target kind = target::cturn;
  bool tls = false;  // every client speaks TLS (CTurn only; no certificate check)
  mode load = mode::broadcast;
  std::size_t rooms = 10;
  std::size_t members = 5;
  std::size_t senders = 0;   // per room; 0 = every member
  std::size_t size = 64;     // payload bytes (the `content` of a CTurn message)
  double rate = 0;           // total deliveries per second; 0 = closed loop
  std::size_t window = 4;    // closed loop: rounds in flight per sender
  std::size_t inflight = 0;  // closed loop: total deliveries in flight; sets the window
  double warmup_s = 1;
  double duration_s = 3;
  double drain_s = 5;
  double setup_s = 120;
  std::size_t connections = 0;  // idle mode
  double settle_s = 1;          // idle mode: wait before reading RSS
  std::size_t setup_parallel = 128;
  std::size_t per_source_address = 2000;  // connections per 127.0.0.x source
  // Processes whose CPU time (summed) and RSS (summed) count as the server's:
  // the one server, or a cluster's nodes and its Redis.
  std::vector<int> server_pids;
  std::string tag;  // prefix of user and room names; default from the pid
  std::string label;
};

enum class parse_outcome { run, help, error };

// Parses argv; on `error` or `help`, `message` holds the text to print.
parse_outcome parse_options(int argc, char** argv, options& result, std::string& message);

}  // namespace cturn::bench
