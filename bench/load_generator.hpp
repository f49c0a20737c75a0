#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"

namespace cturn::bench {

struct run_result {
  bool completed = false;
  std::string failure;  // why the run did not complete
  double setup_s = 0;
  // Over TLS (--tls): what the server negotiated with the first client.
  std::string tls_version;
  std::string tls_cipher;

  // Throughput modes; deliveries and latency count only the measured interval.
  double measured_s = 0;
  std::uint64_t measured_deliveries = 0;
  std::uint64_t measured_frames_sent = 0;
  std::uint64_t latency_samples = 0;
  std::uint64_t p50_ns = 0;
  std::uint64_t p90_ns = 0;
  std::uint64_t p99_ns = 0;
  std::uint64_t p999_ns = 0;
  std::uint64_t p9999_ns = 0;
  std::uint64_t max_ns = 0;

  // Integrity over the whole run (warm-up, measured interval and drain).
  std::uint64_t rounds_sent = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t expected = 0;  // deliveries the sent messages call for
  std::uint64_t received = 0;  // message deliveries, duplicates included
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t misrouted = 0;  // stamp from a sender outside the receiver's room, or self
  std::uint64_t malformed = 0;  // a '#' without a readable stamp
  std::uint64_t error_frames = 0;
  std::uint64_t connection_errors = 0;
  std::uint64_t other_frames = 0;  // system, welcome and so on
  std::string first_error;

  // The server, given --server-pid; with several processes, their sum (and
  // each process's share in the *_each vectors, in --server-pid order).
  std::optional<double> server_cpu_s;       // during the measured interval
  std::optional<long> server_rss_kib;       // at the end of the measured interval
  std::optional<long> server_rss_base_kib;  // idle mode: before connecting
  std::vector<double> server_cpu_s_each;
  std::vector<long> server_rss_kib_each;
  double generator_cpu_s = 0;  // during the measured interval
  // How late a 1 ms timer fired at worst in the measured interval: the
  // generator's own stalls (a busy loop, or this core lent to other work).
  std::uint64_t generator_stall_ns = 0;
};

// Connects, registers, drives the load and measures. Single-threaded.
run_result run_load(const options& config);

}  // namespace cturn::bench
