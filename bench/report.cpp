#include "report.hpp"

#include <iomanip>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cturn::bench {
namespace {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out.append(escaped);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string_view target_name(target kind) {
  return kind == target::cturn ? "cturn" : "bare";
}

std::string_view mode_name(mode load) {
  switch (load) {
    case mode::broadcast:
      return "broadcast";
    case mode::directed:
      return "directed";
    case mode::idle:
      return "idle";
    case mode::jitter:
      return "jitter";
  }
  return "?";
}

std::string number(double value, int decimals = 3) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(decimals) << value;
  return text.str();
}

template <typename T>
std::string optional_number(const std::optional<T>& value, int decimals = 3) {
  if (!value)
    return "null";
  if constexpr (std::is_floating_point_v<T>)
    return number(*value, decimals);
  return std::to_string(*value);
}

double microseconds(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

double per_second(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

std::optional<double> per_cpu_second(const run_result& result) {
  if (!result.server_cpu_s || *result.server_cpu_s <= 0)
    return std::nullopt;
  return static_cast<double>(result.measured_deliveries) / *result.server_cpu_s;
}

std::optional<double> bytes_per_connection(const options& config, const run_result& result) {
  if (!result.server_rss_kib || !result.server_rss_base_kib)
    return std::nullopt;
  return static_cast<double>(*result.server_rss_kib - *result.server_rss_base_kib) * 1024.0 /
         static_cast<double>(config.connections);
}

template <typename T>
std::string json_array(const std::vector<T>& values, int decimals = 3) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0)
      out.push_back(',');
    out += optional_number(std::optional<T>(values[i]), decimals);
  }
  out.push_back(']');
  return out;
}

// "pid":N as it always was for one process (0 for none); for several (a
// cluster's nodes and Redis) "pid":null, the list, and what each one used.
std::string json_server_pids(const options& config, const run_result& result) {
  const auto& pids = config.server_pids;
  if (pids.size() <= 1)
    return "\"pid\":" + std::to_string(pids.empty() ? 0 : pids.front());
  return "\"pid\":null,\"pids\":" + json_array(pids) +
         ",\"cpu_s_each\":" + json_array(result.server_cpu_s_each) +
         ",\"rss_kib_each\":" + json_array(result.server_rss_kib_each);
}

}  // namespace

void write_json(std::ostream& out, const options& config, const run_result& result) {
  out << "{\"label\":" << json_string(config.label)
      << ",\"target\":" << json_string(target_name(config.kind))
      << ",\"tls\":" << (config.tls ? "true" : "false")
      << (config.tls ? ",\"tls_version\":" + json_string(result.tls_version) +
                           ",\"tls_cipher\":" + json_string(result.tls_cipher)
                     : std::string())
      << ",\"mode\":" << json_string(mode_name(config.load)) << ",\"rooms\":" << config.rooms
      << ",\"members\":" << config.members << ",\"connections\":" << config.connections
      << (config.ports.size() > 1 ? ",\"ports\":" + json_array(config.ports) : std::string())
      << ",\"completed\":" << (result.completed ? "true" : "false")
      << ",\"failure\":" << (result.failure.empty() ? "null" : json_string(result.failure))
      << ",\"setup_s\":" << number(result.setup_s);
  if (config.load == mode::idle) {
    out << ",\"server\":{" << json_server_pids(config, result)
        << ",\"rss_base_kib\":" << optional_number(result.server_rss_base_kib)
        << ",\"rss_kib\":" << optional_number(result.server_rss_kib)
        << ",\"rss_per_connection_bytes\":"
        << optional_number(bytes_per_connection(config, result), 1) << "}";
  } else {
    out << ",\"senders\":" << config.senders << ",\"size\":" << config.size
        << ",\"load\":" << (config.rate > 0 ? "\"open\"" : "\"closed\"")
        << ",\"rate\":" << number(config.rate, 0) << ",\"window\":" << config.window
        << ",\"warmup_s\":" << number(config.warmup_s)
        << ",\"measured_s\":" << number(result.measured_s)
        << ",\"deliveries\":" << result.measured_deliveries << ",\"deliveries_per_s\":"
        << number(per_second(result.measured_deliveries, result.measured_s), 0)
        << ",\"frames_sent_per_s\":"
        << number(per_second(result.measured_frames_sent, result.measured_s), 0)
        << ",\"latency_us\":{\"samples\":" << result.latency_samples
        << ",\"p50\":" << number(microseconds(result.p50_ns), 1)
        << ",\"p90\":" << number(microseconds(result.p90_ns), 1)
        << ",\"p99\":" << number(microseconds(result.p99_ns), 1)
        << ",\"p999\":" << number(microseconds(result.p999_ns), 1)
        << ",\"p9999\":" << number(microseconds(result.p9999_ns), 1)
        << ",\"max\":" << number(microseconds(result.max_ns), 1) << "}"
        << ",\"integrity\":{\"rounds_sent\":" << result.rounds_sent
        << ",\"frames_sent\":" << result.frames_sent << ",\"expected\":" << result.expected
        << ",\"received\":" << result.received << ",\"lost\":" << result.lost
        << ",\"duplicated\":" << result.duplicated << ",\"reordered\":" << result.reordered
        << ",\"misrouted\":" << result.misrouted << ",\"malformed\":" << result.malformed << "}"
        << ",\"server\":{" << json_server_pids(config, result)
        << ",\"cpu_s\":" << optional_number(result.server_cpu_s)
        << ",\"deliveries_per_cpu_s\":" << optional_number(per_cpu_second(result), 0)
        << ",\"rss_kib\":" << optional_number(result.server_rss_kib) << "}"
        << ",\"generator_cpu_s\":" << number(result.generator_cpu_s)
        << ",\"generator_stall_us\":" << number(microseconds(result.generator_stall_ns), 1);
  }
  out << ",\"errors\":{\"error_frames\":" << result.error_frames
      << ",\"connection_errors\":" << result.connection_errors
      << ",\"first\":" << (result.first_error.empty() ? "null" : json_string(result.first_error))
      << "},\"other_frames\":" << result.other_frames << "}\n";
}

void write_summary(std::ostream& out, const options& config, const run_result& result) {
  out << "cturn-bench " << target_name(config.kind)
      << (config.tls ? " over " + result.tls_version + " " + result.tls_cipher : std::string())
      << ' ' << mode_name(config.load) << ": ";
  if (!result.completed)
    out << "FAILED: " << result.failure << '\n';
  if (config.load == mode::idle) {
    out << config.connections << " connections in " << config.rooms << " rooms, registered in "
        << number(result.setup_s, 2) << " s\n";
    if (const auto bytes = bytes_per_connection(config, result))
      out << "  server RSS " << *result.server_rss_base_kib << " KiB -> " << *result.server_rss_kib
          << " KiB: " << number(*bytes, 0) << " bytes per connection\n";
  } else {
    out << config.rooms << " rooms x " << config.members << " members, " << config.senders
        << " senders/room, " << config.size << " B, "
        << (config.rate > 0 ? "open loop at " + number(config.rate, 0) + " deliveries/s"
                            : "closed loop, window " + std::to_string(config.window))
        << '\n';
    out << "  " << number(per_second(result.measured_deliveries, result.measured_s), 0)
        << " deliveries/s over " << number(result.measured_s, 2) << " s";
    if (const auto rate = per_cpu_second(result)) {
      out << "; server " << number(*result.server_cpu_s, 2) << " CPU s";
      if (result.server_cpu_s_each.size() > 1) {
        out << " (";
        for (std::size_t i = 0; i < result.server_cpu_s_each.size(); ++i)
          out << (i == 0 ? "" : " + ") << number(result.server_cpu_s_each[i], 2);
        out << " in " << result.server_cpu_s_each.size() << " processes)";
      }
      out << ", " << number(*rate, 0) << " deliveries per server CPU s";
    }
    if (result.server_rss_kib)
      out << "; RSS " << *result.server_rss_kib << " KiB";
    out << "\n  latency us: p50 " << number(microseconds(result.p50_ns), 1) << ", p99 "
        << number(microseconds(result.p99_ns), 1) << ", p99.9 "
        << number(microseconds(result.p999_ns), 1) << ", max "
        << number(microseconds(result.max_ns), 1) << " (" << result.latency_samples
        << " samples)\n";
    out << "  integrity: expected " << result.expected << ", received " << result.received
        << ", lost " << result.lost << ", duplicated " << result.duplicated << ", reordered "
        << result.reordered << ", misrouted " << result.misrouted << ", malformed "
        << result.malformed << "\n  generator: " << number(result.generator_cpu_s, 2)
        << " CPU s in the measured interval, longest stall "
        << number(microseconds(result.generator_stall_ns), 0) << " us\n";
  }
  out << "  errors: " << result.error_frames << " error frames, " << result.connection_errors
      << " connection errors";
  if (!result.first_error.empty())
    out << "; first: " << result.first_error;
  out << '\n';
}

void write_json(std::ostream& out, const options& config, const jitter_result& result) {
  out << "{\"label\":" << json_string(config.label) << ",\"mode\":\"jitter\",\"cpu\":" << result.cpu
      << ",\"duration_s\":" << number(result.duration_s)
      << ",\"max_gap_us\":" << number(microseconds(result.max_gap_ns), 1)
      << ",\"gaps_over_100us\":" << result.gaps_over_100us
      << ",\"gaps_over_1ms\":" << result.gaps_over_1ms
      << ",\"lost_fraction\":" << number(result.lost_fraction, 4) << "}\n";
}

void write_summary(std::ostream& out, const options&, const jitter_result& result) {
  out << "cturn-bench jitter on CPU " << result.cpu << ": over " << number(result.duration_s, 1)
      << " s the longest gap was " << number(microseconds(result.max_gap_ns), 0) << " us; "
      << result.gaps_over_1ms << " gaps over 1 ms, " << result.gaps_over_100us << " over 100 us; "
      << number(result.lost_fraction * 100, 1) << " % of the time lost\n";
}

}  // namespace cturn::bench
