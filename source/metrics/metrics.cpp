#include "metrics/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <type_traits>

namespace cturn::metrics {
namespace {

// Every thread's block, kept for the life of the process: a thread's counts
// must not vanish from the totals when it ends, and threads are few.
struct block_registry {
  std::mutex mutex;
  std::deque<thread_counters> blocks;
};

block_registry& registry() {
  static block_registry* const blocks = new block_registry;  // never destroyed: see above
  return *blocks;
}

struct process_figures {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double start_time_seconds = 0;
  double open_fds = 0;
  double max_fds = 0;
};

// From /proc/self (Linux): the figures the Prometheus clients call the
// standard process metrics.
process_figures read_process() {
  process_figures figures;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  const auto close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double utime = 0;
    double stime = 0;
    double start_ticks = 0;
    double rss_pages = 0;
    for (int index = 3; fields >> field; ++index) {
      if (index == 14)
        utime = std::stod(field);
      else if (index == 15)
        stime = std::stod(field);
      else if (index == 22)
        start_ticks = std::stod(field);
      else if (index == 24)
        rss_pages = std::stod(field);
    }
    figures.cpu_seconds = (utime + stime) / ticks;
    figures.resident_bytes = rss_pages * static_cast<double>(sysconf(_SC_PAGESIZE));
    std::ifstream system_stat("/proc/stat");
    for (std::string line; std::getline(system_stat, line);) {
      if (line.starts_with("btime ")) {
        figures.start_time_seconds = std::stod(line.substr(6)) + start_ticks / ticks;
        break;
      }
    }
  }
  std::error_code ignored;
  for (auto entry = std::filesystem::directory_iterator("/proc/self/fd", ignored);
       entry != std::filesystem::directory_iterator(); entry.increment(ignored))
    figures.open_fds += 1;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
    figures.max_fds = static_cast<double>(limit.rlim_cur);
  return figures;
}

class writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  template <typename Value>
  void sample(std::string_view name, Value value, std::string_view label = {},
              std::string_view label_value = {}) {
    out_ << name;
    if (!label.empty())
      out_ << '{' << label << "=\"" << label_value << "\"}";
    if constexpr (std::is_floating_point_v<Value>) {
      // Enough digits for a start time in seconds since 1970 to keep its milliseconds.
      char text[32];
      std::snprintf(text, sizeof text, "%.15g", value);
      out_ << ' ' << text << '\n';
    } else {
      out_ << ' ' << value << '\n';
    }
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

template <typename Kind, std::size_t N>
void labelled(writer& out, std::string_view name, std::string_view type, std::string_view help,
              std::string_view label, const std::array<std::uint64_t, N>& values) {
  out.family(name, type, help);
  for (std::size_t i = 0; i < N; ++i)
    out.sample(name, values[i], label, label_of(static_cast<Kind>(i)));
}

}  // namespace

thread_counters& local() {
  thread_local thread_counters* const mine = [] {
    block_registry& blocks = registry();
    const std::lock_guard lock(blocks.mutex);
    return &blocks.blocks.emplace_back();
  }();
  return *mine;
}

void observe_handoff(std::chrono::steady_clock::duration elapsed, std::uint64_t messages) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  thread_counters& counters = local();
  std::size_t bucket = 0;
  while (bucket < handoff_bounds.size() && seconds > handoff_bounds[bucket])
    ++bucket;
  counters.handoff_buckets[bucket].add(messages);
  counters.handoff_nanoseconds.add(
      messages * static_cast<std::uint64_t>(
                     std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
}

disconnect_label label_of_reason(cturn::disconnect_reason reason) noexcept {
  switch (reason) {
    case cturn::disconnect_reason::eof:
      return disconnect_label::eof;
    case cturn::disconnect_reason::reset:
    case cturn::disconnect_reason::broken_pipe:
      return disconnect_label::reset;
    case cturn::disconnect_reason::keepalive_timeout:
      return disconnect_label::timeout;
    case cturn::disconnect_reason::line_too_long:
      return disconnect_label::line_too_long;
    case cturn::disconnect_reason::slow_consumer:
      return disconnect_label::slow_consumer;
    case cturn::disconnect_reason::over_output_budget:
      return disconnect_label::over_output_budget;
    case cturn::disconnect_reason::closed:
    case cturn::disconnect_reason::closed_by_server:
      return disconnect_label::closed_by_server;
    case cturn::disconnect_reason::close_deadline:
      return disconnect_label::close_deadline;
    case cturn::disconnect_reason::internal_error:
      return disconnect_label::internal_error;
    case cturn::disconnect_reason::tls_required:
      return disconnect_label::tls_required;
    case cturn::disconnect_reason::tls_not_offered:
    case cturn::disconnect_reason::tls_handshake_failed:
      return disconnect_label::tls_handshake_failed;
    case cturn::disconnect_reason::network_error:
      break;
  }
  return disconnect_label::network_error;
}

totals collect() {
  totals sum;
  block_registry& blocks = registry();
  const std::lock_guard lock(blocks.mutex);
  const auto add = [](auto& into, const auto& from) {
    for (std::size_t i = 0; i < into.size(); ++i)
      into[i] += from[i].value();
  };
  for (const thread_counters& block : blocks.blocks) {
    add(sum.commands, block.commands);
    add(sum.errors, block.errors);
    sum.deliveries += block.deliveries.value();
    sum.bytes_received += block.bytes_received.value();
    sum.bytes_sent += block.bytes_sent.value();
    add(sum.disconnects, block.disconnects);
    sum.slow_consumers += block.slow_consumers.value();
    add(sum.rejected, block.rejected);
    add(sum.health_checks, block.health_checks);
    add(sum.handoff_buckets, block.handoff_buckets);
    sum.handoff_nanoseconds += block.handoff_nanoseconds.value();
    add(sum.connections_by_transport, block.connections_by_transport);
    add(sum.tls_handshake_failures, block.tls_handshake_failures);
  }
  return sum;
}

std::string exposition(const totals& counted, const gauges& levels) {
  writer out;
  out.family("cturn_connections", "gauge", "Open client connections on this node.");
  out.sample("cturn_connections", levels.connections);
  out.family("cturn_connections_awaiting_proxy_header", "gauge",
             "Connections from a trusted proxy still waiting for their PROXY header; they "
             "count toward the connection limit.");
  out.sample("cturn_connections_awaiting_proxy_header", levels.awaiting_proxy_header);
  out.family("cturn_users", "gauge", "Registered usernames held by clients of this node.");
  out.sample("cturn_users", levels.users);
  out.family("cturn_rooms", "gauge", "Rooms with at least one member on this node.");
  out.sample("cturn_rooms", levels.rooms);
  out.family("cturn_buffered_output_bytes", "gauge",
             "Bytes of frames waiting to be written, each frame counted once however many "
             "clients it is queued for.");
  out.sample("cturn_buffered_output_bytes", levels.buffered_output_bytes);
  if (levels.output_budget_bytes != 0) {
    out.family("cturn_output_budget_bytes", "gauge",
               "The server-wide budget of buffered output (--max-buffered-bytes); the biggest "
               "consumers are disconnected first when it is exceeded.");
    out.sample("cturn_output_budget_bytes", levels.output_budget_bytes);
  }

  labelled<command_kind>(out, "cturn_commands_total", "counter",
                         "Commands decoded, by type (invalid lines are errors, not commands).",
                         "type", counted.commands);
  out.family("cturn_errors_total", "counter", "Error frames sent, by error.");
  for (std::size_t i = 0; i < error_kinds; ++i)
    out.sample("cturn_errors_total", counted.errors[i], "error",
               label_of(static_cast<protocol_error>(i + 1)));
  out.family("cturn_deliveries_total", "counter", "Frames queued to clients.");
  out.sample("cturn_deliveries_total", counted.deliveries);
  out.family("cturn_bytes_received_total", "counter", "Bytes read from clients.");
  out.sample("cturn_bytes_received_total", counted.bytes_received);
  out.family("cturn_bytes_sent_total", "counter", "Bytes written to clients.");
  out.sample("cturn_bytes_sent_total", counted.bytes_sent);
  labelled<disconnect_label>(out, "cturn_disconnects_total", "counter",
                             "Connections ended, by reason.", "reason", counted.disconnects);
  out.family("cturn_slow_consumers_total", "counter",
             "Clients cut off because their pending output passed the limit.");
  out.sample("cturn_slow_consumers_total", counted.slow_consumers);
  labelled<rejection>(out, "cturn_rejected_connections_total", "counter",
                      "Connections turned away before they were served, by reason.", "reason",
                      counted.rejected);
  labelled<health_check_kind>(out, "cturn_health_checks_total", "counter",
                              "Connections that only checked the server answers, by kind "
                              "(logged at debug).",
                              "kind", counted.health_checks);
  labelled<transport>(out, "cturn_connections_by_transport_total", "counter",
                      "Client connections by transport, counted once their first byte tells.",
                      "transport", counted.connections_by_transport);
  labelled<handshake_failure>(out, "cturn_tls_handshake_failures_total", "counter",
                              "TLS handshakes that did not complete, by reason.", "reason",
                              counted.tls_handshake_failures);
  if (levels.tls_certificate_expiry != 0) {
    out.family("cturn_tls_certificate_expiry_timestamp_seconds", "gauge",
               "When the TLS certificate used for new handshakes expires, since the epoch.");
    out.sample("cturn_tls_certificate_expiry_timestamp_seconds",
               static_cast<double>(levels.tls_certificate_expiry));
  }

  const std::string_view handoff = "cturn_message_handoff_seconds";
  out.family(handoff, "histogram",
             "Time from a message's arrival to its hand-off to the recipients' queues "
             "(in cluster mode: to its PUBLISH).");
  std::uint64_t cumulative = 0;
  char bound[32];
  for (std::size_t i = 0; i < handoff_bounds.size(); ++i) {
    cumulative += counted.handoff_buckets[i];
    std::snprintf(bound, sizeof bound, "%g", handoff_bounds[i]);
    out.sample("cturn_message_handoff_seconds_bucket", cumulative, "le", bound);
  }
  cumulative += counted.handoff_buckets.back();
  out.sample("cturn_message_handoff_seconds_bucket", cumulative, "le", "+Inf");
  out.sample("cturn_message_handoff_seconds_sum",
             static_cast<double>(counted.handoff_nanoseconds) / 1e9);
  out.sample("cturn_message_handoff_seconds_count", cumulative);

  const process_figures process = read_process();
  out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
  out.sample("process_cpu_seconds_total", process.cpu_seconds);
  out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes", process.resident_bytes);
  out.family("process_open_fds", "gauge", "Number of open file descriptors.");
  out.sample("process_open_fds", process.open_fds);
  out.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  out.sample("process_max_fds", process.max_fds);
  out.family("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
  out.sample("process_start_time_seconds", process.start_time_seconds);
  return out.text();
}

std::string_view label_of(command_kind kind) {
  constexpr std::string_view names[] = {"username", "create", "join", "leave", "message"};
  return names[static_cast<std::size_t>(kind)];
}

std::string_view label_of(disconnect_label reason) {
  constexpr std::string_view names[] = {"eof",
                                        "reset",
                                        "timeout",
                                        "network_error",
                                        "line_too_long",
                                        "slow_consumer",
                                        "over_output_budget",
                                        "closed_by_server",
                                        "close_deadline",
                                        "internal_error",
                                        "tls_required",
                                        "tls_handshake_failed"};
  static_assert(std::size(names) == disconnect_reasons);
  return names[static_cast<std::size_t>(reason)];
}

std::string_view label_of(transport kind) {
  constexpr std::string_view names[] = {"plain", "tls"};
  static_assert(std::size(names) == transports);
  return names[static_cast<std::size_t>(kind)];
}

std::string_view label_of(handshake_failure reason) {
  constexpr std::string_view names[] = {"timeout", "protocol", "closed", "not_offered"};
  static_assert(std::size(names) == handshake_failures);
  return names[static_cast<std::size_t>(reason)];
}

std::string_view label_of(rejection reason) {
  constexpr std::string_view names[] = {"server_full", "shutting_down", "redis_unavailable",
                                        "source_limit"};
  return names[static_cast<std::size_t>(reason)];
}

std::string_view label_of(health_check_kind kind) {
  constexpr std::string_view names[] = {"proxy_local", "probe"};
  return names[static_cast<std::size_t>(kind)];
}

std::string_view label_of(protocol_error error) {
  constexpr std::string_view names[] = {
      "message_too_long",  "invalid_json",      "invalid_format",       "invalid_type",
      "invalid_content",   "username_required", "username_already_set", "username_empty",
      "username_invalid",  "username_taken",    "public_key_invalid",   "leave_room_first",
      "room_name_invalid", "room_exists",       "room_missing",         "not_in_room",
      "join_room_first",   "username_timeout",  "server_full",          "too_many_from_source",
      "tls_required"};
  static_assert(std::size(names) == error_kinds);
  return names[static_cast<std::size_t>(error) - 1];
}

}  // namespace cturn::metrics
