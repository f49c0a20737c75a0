#include "config.hpp"

#include <boost/program_options.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

namespace cturn {
namespace {

namespace po = boost::program_options;

// The environment variable that backs a flag: max-line-bytes -> CTURN_MAX_LINE_BYTES.
std::string environment_name(std::string_view flag) {
  std::string name = "CTURN_";
  for (const char c : flag)
    name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

// What the flags hold before validation. Integers are read signed, so that
// "-1" is an error rather than a value wrapped around to the type's maximum.
struct raw_options {
  std::string bind;
  std::int64_t port = 1337;
  std::int64_t threads = 0;
  std::int64_t max_line_bytes = 64 * 1024;
  std::int64_t max_output_bytes = 4 * 1024 * 1024;
  std::int64_t username_timeout_ms = 30'000;
  std::int64_t max_connections = 10'000;
  std::int64_t max_connections_per_source = 64;
  double rate_limit = 200;
  double rate_burst = 400;
  std::int64_t shutdown_grace_ms = 5'000;
  std::string log_level;
  std::string redis;
  std::string metrics;
  std::string trusted_proxies;
  std::string tls_cert;
  std::string tls_key;
  bool tls_required = false;
};

po::options_description make_options(raw_options& raw) {
  po::options_description options("Options (each also read from CTURN_<NAME>, e.g. CTURN_PORT)");
  // clang-format off
  options.add_options()
    ("bind", po::value(&raw.bind)->default_value("0.0.0.0"), "address to listen on")
    ("port", po::value(&raw.port)->default_value(raw.port), "TCP port; 0 picks a free one")
    ("threads", po::value(&raw.threads)->default_value(raw.threads),
     "I/O threads; 0 = one per available core")
    ("max-line-bytes", po::value(&raw.max_line_bytes)->default_value(raw.max_line_bytes),
     "longest accepted line without its newline; 0 = no limit")
    ("max-output-bytes", po::value(&raw.max_output_bytes)->default_value(raw.max_output_bytes),
     "pending output per client before it is dropped as a slow consumer; 0 = no limit")
    ("username-timeout-ms", po::value(&raw.username_timeout_ms)->default_value(raw.username_timeout_ms),
     "time allowed to set a username after connecting; 0 = no limit")
    ("max-connections", po::value(&raw.max_connections)->default_value(raw.max_connections),
     "simultaneous connections; 0 = only the file-descriptor limit")
    ("max-connections-per-source",
     po::value(&raw.max_connections_per_source)->default_value(raw.max_connections_per_source),
     "simultaneous connections from one IPv4 address or IPv6 /64; 0 = no limit")
    ("rate-limit", po::value(&raw.rate_limit)->default_value(raw.rate_limit, "200"),
     "frames per second per client, sustained; 0 = no limit")
    ("rate-burst", po::value(&raw.rate_burst)->default_value(raw.rate_burst, "400"),
     "frames a client may send in one burst")
    ("shutdown-grace-ms", po::value(&raw.shutdown_grace_ms)->default_value(raw.shutdown_grace_ms),
     "how long shutdown waits for clients' output to flush")
    ("log-level", po::value(&raw.log_level)->default_value("info"),
     "debug, info, warn, error or off")
    ("metrics", po::value(&raw.metrics)->default_value(""),
     "HOST:PORT to serve /metrics (Prometheus) and /healthz on; empty = off")
    ("trusted-proxies", po::value(&raw.trusted_proxies)->default_value(""),
     "CIDR[,CIDR...] of load balancers whose connections begin with a PROXY protocol header "
     "(v1 or v2) naming the real client; empty = none")
    ("redis", po::value(&raw.redis)->default_value(""),
     "HOST:PORT of the Redis server shared by a cluster of nodes; empty = one node on its own "
     "(the password, if any, comes from CTURN_REDIS_PASSWORD)")
    ("tls-cert", po::value(&raw.tls_cert)->default_value(""),
     "PEM certificate chain (leaf first) for TLS on the client port, beside plain TCP; "
     "reloaded on SIGHUP")
    ("tls-key", po::value(&raw.tls_key)->default_value(""),
     "PEM private key of --tls-cert; reloaded with it")
    ("tls-required", po::value(&raw.tls_required)->default_value(false)->implicit_value(true),
     "turn plain TCP clients away with `TLS required`")
    ("check", "probe the server at --bind/--port and exit 0 if it answers")
    ("help", "show this help")
    ("version", "show the version");
  // clang-format on
  return options;
}

// Flags not given on the command line, taken from the environment.
std::vector<std::string> arguments_from_environment(const po::options_description& options,
                                                    const po::variables_map& given,
                                                    const environment_lookup& environment) {
  std::vector<std::string> arguments;
  for (const auto& option : options.options()) {
    const std::string& flag = option->long_name();
    if (flag == "check" || flag == "help" || flag == "version")
      continue;
    if (given.count(flag) != 0 && !given[flag].defaulted())
      continue;
    if (const char* value = environment(environment_name(flag).c_str()))
      arguments.push_back("--" + flag + "=" + value);
  }
  return arguments;
}

constexpr std::int64_t one_week_ms = 7LL * 24 * 3600 * 1000;
constexpr std::int64_t one_gibibyte = 1LL << 30;

tl::expected<void, std::string> check_range(std::string_view flag, std::int64_t value,
                                            std::int64_t highest) {
  if (value >= 0 && value <= highest)
    return {};
  return tl::unexpected("--" + std::string(flag) + " must be between 0 and " +
                        std::to_string(highest));
}

tl::expected<void, std::string> check_rate(std::string_view flag, double value) {
  if (std::isfinite(value) && value >= 0 && value <= 1e9)
    return {};
  return tl::unexpected("--" + std::string(flag) + " must be a number between 0 and 1e9");
}

// HOST:PORT; a bracketed IPv6 host keeps its colons: [::1]:6379.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text,
                                                                     std::int64_t lowest_port = 1) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return std::nullopt;
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  std::int64_t port = -1;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || port_text.empty() || error != std::errc() ||
      end != port_text.data() + port_text.size() || port < lowest_port || port > 65535)
    return std::nullopt;
  return std::pair(std::move(host), static_cast<std::uint16_t>(port));
}

tl::expected<server_config, std::string> validate(const raw_options& raw) {
  const std::pair<std::string_view, tl::expected<void, std::string>> checks[] = {
      {"port", check_range("port", raw.port, 65535)},
      {"threads", check_range("threads", raw.threads, 1024)},
      {"max-line-bytes", check_range("max-line-bytes", raw.max_line_bytes, one_gibibyte)},
      {"max-output-bytes",
       check_range("max-output-bytes", raw.max_output_bytes, 64 * one_gibibyte)},
      {"username-timeout-ms",
       check_range("username-timeout-ms", raw.username_timeout_ms, one_week_ms)},
      {"max-connections", check_range("max-connections", raw.max_connections, 10'000'000)},
      {"max-connections-per-source",
       check_range("max-connections-per-source", raw.max_connections_per_source, 10'000'000)},
      {"shutdown-grace-ms", check_range("shutdown-grace-ms", raw.shutdown_grace_ms, one_week_ms)},
      {"rate-limit", check_rate("rate-limit", raw.rate_limit)},
      {"rate-burst", check_rate("rate-burst", raw.rate_burst)},
  };
  for (const auto& [flag, result] : checks) {
    if (!result)
      return tl::unexpected(result.error());
  }
  if (raw.rate_limit > 0 && raw.rate_burst < 1)
    return tl::unexpected(std::string("--rate-burst must be at least 1 when --rate-limit is on"));
  const auto level = parse_log_level(raw.log_level);
  if (!level)
    return tl::unexpected(std::string("--log-level must be one of debug, info, warn, error, off"));

  server_config config;
  if (!raw.redis.empty()) {
    const auto address = split_host_port(raw.redis);
    if (!address)
      return tl::unexpected(std::string("--redis must be HOST:PORT, e.g. 127.0.0.1:6379"));
    config.redis_host = address->first;
    config.redis_port = address->second;
  }
  if (!raw.metrics.empty()) {
    const auto address = split_host_port(raw.metrics, 0);
    if (!address)
      return tl::unexpected(std::string("--metrics must be HOST:PORT, e.g. 0.0.0.0:9337"));
    config.metrics_host = address->first;
    config.metrics_port = address->second;
  }
  auto trusted = parse_address_ranges(raw.trusted_proxies);
  if (!trusted)
    return tl::unexpected("--trusted-proxies must be CIDR[,CIDR...], e.g. 10.0.0.0/8,::1 (" +
                          trusted.error() + ")");
  config.trusted_proxies = std::move(*trusted);
  if (raw.tls_cert.empty() != raw.tls_key.empty())
    return tl::unexpected(std::string("--tls-cert and --tls-key go together"));
  if (raw.tls_required && raw.tls_cert.empty())
    return tl::unexpected(std::string("--tls-required needs --tls-cert and --tls-key"));
  config.tls_certificate_file = raw.tls_cert;
  config.tls_key_file = raw.tls_key;
  config.tls_required = raw.tls_required;
  config.bind_address = raw.bind;
  config.port = static_cast<std::uint16_t>(raw.port);
  config.threads = static_cast<unsigned>(raw.threads);
  config.max_line_bytes = static_cast<std::size_t>(raw.max_line_bytes);
  config.max_output_bytes = static_cast<std::size_t>(raw.max_output_bytes);
  config.username_timeout = std::chrono::milliseconds(raw.username_timeout_ms);
  config.max_connections = static_cast<std::size_t>(raw.max_connections);
  config.max_connections_per_source = static_cast<std::size_t>(raw.max_connections_per_source);
  config.rate_limit = raw.rate_limit;
  config.rate_burst = raw.rate_burst;
  config.shutdown_grace = std::chrono::milliseconds(raw.shutdown_grace_ms);
  config.level = *level;
  return config;
}

}  // namespace

tl::expected<command_line, std::string> parse_command_line(int argc, const char* const argv[],
                                                           const environment_lookup& environment) {
  raw_options raw;
  const po::options_description options = make_options(raw);
  // No positional arguments: `cturn-server 8080` is an error, not port 1337.
  const po::positional_options_description no_positionals;

  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(no_positionals).run(),
              values);
    // A second store() fills only what the command line left at its default.
    po::store(po::command_line_parser(arguments_from_environment(options, values, environment))
                  .options(options)
                  .positional(no_positionals)
                  .run(),
              values);
    po::notify(values);
  } catch (const po::error& error) {
    return tl::unexpected(std::string(error.what()));
  }

  command_line result;
  if (values.count("help") != 0) {
    std::ostringstream text;
    text << "Usage: cturn-server [options]\n\nCTurn chat relay server.\n\n" << options;
    result.action = startup_action::print_and_exit;
    result.text = text.str();
    return result;
  }
  if (values.count("version") != 0) {
    result.action = startup_action::print_and_exit;
    result.text = "cturn-server " CTURN_VERSION "\n";
    return result;
  }
  if (values.count("check") != 0)
    result.action = startup_action::check;

  auto config = validate(raw);
  if (!config)
    return tl::unexpected(config.error());
  result.config = std::move(*config);
  if (const char* password = environment("CTURN_REDIS_PASSWORD"))
    result.config.redis_password = password;
  return result;
}

}  // namespace cturn
