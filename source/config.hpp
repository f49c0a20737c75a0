#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

#include "address_range.hpp"
#include "log.hpp"

namespace cturn {

// Every setting of the server. A limit of 0 means "switched off".
struct server_config {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 1337;
  unsigned threads = 0;  // 0: one per core the process may run on
  std::size_t max_line_bytes = 64 * 1024;
  std::size_t max_output_bytes = 4 * 1024 * 1024;
  // Frames held for all clients together, counted once however many queues
  // share them; over it, the biggest consumers are disconnected first. The
  // parser's default is default_output_budget() (a quarter of the memory).
  std::size_t max_buffered_bytes = 0;
  std::chrono::milliseconds username_timeout{30'000};
  std::size_t max_connections = 10'000;
  // Per IPv4 address or IPv6 /64, counted on this node only.
  std::size_t max_connections_per_source = 64;
  // Load balancers whose connections start with a PROXY protocol header; the
  // client it names is the one capped and logged.
  std::vector<address_range> trusted_proxies;
  double rate_limit = 200;  // frames per second per client
  double rate_burst = 400;
  // Bytes per second per client, counted by the lines it sends: a client over
  // it is read more slowly, so that its receivers' queues never fill from
  // one burst (--max-output-bytes is 4 MiB).
  double rate_limit_bytes = 1024 * 1024;
  double rate_burst_bytes = 1024 * 1024;
  std::chrono::milliseconds shutdown_grace{5'000};
  // A peer whose path vanished (no FIN, no RST) is dropped within this; 0:
  // the kernel's keepalive and retransmission timings (hours).
  std::chrono::seconds dead_peer_timeout{60};
  // Cluster mode: how long a node that stops gracefully holds its clients'
  // names for resume elsewhere before they are announced `disconnected`;
  // 0: announced at once.
  std::chrono::seconds resume_window{10};
  log_level level = log_level::info;
  // Cluster mode: the Redis server shared by every node, as host and port;
  // empty host: one process on its own, no Redis.
  std::string redis_host;
  std::uint16_t redis_port = 6379;
  // The Redis ACL user to authenticate as (AUTH user password); empty: the
  // default user (AUTH password). Compose's Redis admits the nodes only as
  // a user limited to the cluster's keys and channels (docker/redis-acl.conf).
  std::string redis_user;
  // Or, instead of redis_host: the Sentinels that name the master of the
  // Redis replication group `redis_master`; the node asks them, in order,
  // whenever it (re)joins the cluster (docs/cluster.md, Redis failover).
  std::vector<std::pair<std::string, std::uint16_t>> redis_sentinels;
  std::string redis_master;
  // From CTURN_REDIS_PASSWORD only, never from a flag (flags show in `ps`);
  // never printed or logged.
  std::string redis_password;
  bool clustered() const { return !redis_host.empty() || !redis_sentinels.empty(); }
  // The operators' HTTP endpoint (/metrics, /healthz); empty host: off.
  std::string metrics_host;
  std::uint16_t metrics_port = 0;
  // TLS on the client port, beside plain TCP: a PEM certificate chain (leaf
  // first) and its PEM private key; both empty: TLS off.
  std::string tls_certificate_file;
  std::string tls_key_file;
  // Plain connections are turned away with `TLS required`.
  bool tls_required = false;
  // How often the TLS files are looked at for a change (which reloads
  // them); zero: only SIGHUP reloads.
  std::chrono::seconds tls_watch_interval{10};
};

enum class startup_action { serve, check, print_and_exit };

// A `CTURN_*` variable that names no setting (a typo would otherwise go
// unnoticed), and the known name it most resembles, if any is close.
struct unknown_variable {
  std::string name;
  std::string suggestion;
};

struct command_line {
  startup_action action = startup_action::serve;
  server_config config;
  std::string text;  // --help, --version or --print-config output
  std::vector<unknown_variable> unknown_variables;
};

// Looks up an environment variable; nullptr if unset.
using environment_lookup = std::function<const char*(const char* name)>;

// Flags first, then `CTURN_*` environment variables (an empty one counts as
// unset), then defaults. `environment_names` are the names of every variable
// in the environment, checked for unknown `CTURN_*` ones. Returns a message
// fit for the user on bad input, naming the flag or the variable it came from.
tl::expected<command_line, std::string> parse_command_line(
    int argc, const char* const argv[], const environment_lookup& environment,
    const std::vector<std::string>& environment_names = {});

}  // namespace cturn
