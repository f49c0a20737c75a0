#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "disconnect_reason.hpp"
#include "protocol/error.hpp"

namespace cturn::metrics {

// Counters are kept per thread and summed when Prometheus scrapes: the hot
// paths (a delivery, a read) bump a counter only their own thread writes, so
// no cache line is fought over and no locked instruction is needed.

// A counter one thread writes and any thread may read.
class counter {
 public:
  void add(std::uint64_t amount = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

enum class command_kind { username, create, join, leave, message };
inline constexpr std::size_t command_kinds = 5;

// Why a connection ended: a small fixed set of label values.
enum class disconnect_label {
  eof,
  reset,
  timeout,
  network_error,
  line_too_long,
  slow_consumer,
  over_output_budget,
  closed_by_server,
  close_deadline,
  internal_error,
  tls_required,
  tls_handshake_failed,
};
inline constexpr std::size_t disconnect_reasons = 12;

// How a client's connection carries the protocol, known from its first byte.
enum class transport { plain, tls };
inline constexpr std::size_t transports = 2;

// Why a TLS handshake did not complete.
enum class handshake_failure {
  timeout,      // not finished within the username deadline
  protocol,     // no common version or cipher, a bad record, ...
  closed,       // the client closed or reset the connection
  not_offered,  // a ClientHello on a server with no certificate
};
inline constexpr std::size_t handshake_failures = 4;

// Connections that only check that the server answers: a trusted proxy's own
// (PROXY LOCAL or v1 UNKNOWN, e.g. HAProxy's check-send-proxy), and sessions
// that set a username and closed, as `cturn-server --check` and a TCP check
// do. Counted here rather than announced in the log at info.
enum class health_check_kind { proxy_local, probe };
inline constexpr std::size_t health_check_kinds = 2;

enum class rejection { server_full, shutting_down, redis_unavailable, source_limit };
inline constexpr std::size_t rejections = 4;

inline constexpr std::size_t error_kinds = static_cast<std::size_t>(protocol_error::tls_required);

// Upper bounds of the hand-off histogram's buckets, in seconds.
inline constexpr std::array<double, 13> handoff_bounds = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
    0.0025,  0.005,    0.01,    0.025,  0.05,    0.1};

struct alignas(64) thread_counters {
  std::array<counter, command_kinds> commands;
  std::array<counter, error_kinds> errors;
  counter deliveries;
  counter bytes_received;
  counter bytes_sent;
  std::array<counter, disconnect_reasons> disconnects;
  counter slow_consumers;
  std::array<counter, rejections> rejected;
  std::array<counter, health_check_kinds> health_checks;
  std::array<counter, handoff_bounds.size() + 1> handoff_buckets;  // the last is +Inf
  counter handoff_nanoseconds;
  std::array<counter, transports> connections_by_transport;
  std::array<counter, handshake_failures> tls_handshake_failures;
};

// This thread's counters, registered on first use.
thread_counters& local();

inline void count_error(protocol_error error) {
  local().errors[static_cast<std::size_t>(error) - 1].add();
}
// `messages` messages that took `elapsed` each (a batch read at once and
// handed off together is timed once, at its end).
void observe_handoff(std::chrono::steady_clock::duration elapsed, std::uint64_t messages = 1);
// The metric label a disconnect is counted under.
disconnect_label label_of_reason(cturn::disconnect_reason reason) noexcept;

// Every thread's counters added up.
struct totals {
  std::array<std::uint64_t, command_kinds> commands{};
  std::array<std::uint64_t, error_kinds> errors{};
  std::uint64_t deliveries = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::array<std::uint64_t, disconnect_reasons> disconnects{};
  std::uint64_t slow_consumers = 0;
  std::array<std::uint64_t, rejections> rejected{};
  std::array<std::uint64_t, health_check_kinds> health_checks{};
  std::array<std::uint64_t, handoff_bounds.size() + 1> handoff_buckets{};
  std::uint64_t handoff_nanoseconds = 0;
  std::array<std::uint64_t, transports> connections_by_transport{};
  std::array<std::uint64_t, handshake_failures> tls_handshake_failures{};
};
totals collect();

// Levels read at scrape time.
struct gauges {
  std::size_t connections = 0;
  // From a trusted proxy, still waiting for their PROXY header.
  std::size_t awaiting_proxy_header = 0;
  std::size_t users = 0;
  std::size_t rooms = 0;
  // Bytes held by frames not yet written to every recipient, and the budget
  // they are held to (0: none).
  std::size_t buffered_output_bytes = 0;
  std::size_t output_budget_bytes = 0;
  // When the TLS certificate in use expires, in seconds since the epoch;
  // 0 when TLS is off (the gauge is then left out).
  std::int64_t tls_certificate_expiry = 0;
};

// The Prometheus text exposition format (version 0.0.4) of everything,
// the process metrics included.
std::string exposition(const totals& counted, const gauges& levels);

std::string_view label_of(command_kind kind);
std::string_view label_of(disconnect_label reason);
std::string_view label_of(rejection reason);
std::string_view label_of(transport kind);
std::string_view label_of(handshake_failure reason);
std::string_view label_of(health_check_kind kind);
std::string_view label_of(protocol_error error);

}  // namespace cturn::metrics
