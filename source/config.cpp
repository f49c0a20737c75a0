#include "config.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "dead_peer_timing.hpp"
#include "memory_limit.hpp"

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
  std::int64_t max_buffered_bytes = -1;  // a quarter of the memory
  std::int64_t username_timeout_ms = 30'000;
  std::int64_t max_connections = 10'000;
  std::int64_t max_connections_per_source = 64;
  double rate_limit = 200;
  double rate_burst = 400;
  double rate_limit_bytes = 1024 * 1024;
  double rate_burst_bytes = 1024 * 1024;
  std::int64_t shutdown_grace_ms = 5'000;
  std::int64_t dead_peer_timeout = 60;
  std::int64_t resume_window = 10;
  std::string log_level;
  std::string redis;
  std::string redis_user;
  std::string redis_sentinels;
  std::string redis_master;
  std::string metrics;
  std::string trusted_proxies;
  std::string tls_cert;
  std::string tls_key;
  bool tls_required = false;
  std::int64_t tls_watch = 10;
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
    ("max-buffered-bytes",
     po::value(&raw.max_buffered_bytes)->default_value(raw.max_buffered_bytes, "a quarter of memory"),
     "pending output of all clients together (a frame queued for many counts once); over it "
     "the biggest consumers are dropped first; 0 = no limit")
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
    ("rate-limit-bytes", po::value(&raw.rate_limit_bytes)->default_value(raw.rate_limit_bytes, "1048576"),
     "bytes per second per client, sustained (a client over it is read more slowly); 0 = no limit")
    ("rate-burst-bytes", po::value(&raw.rate_burst_bytes)->default_value(raw.rate_burst_bytes, "1048576"),
     "bytes a client may send in one burst")
    ("shutdown-grace-ms", po::value(&raw.shutdown_grace_ms)->default_value(raw.shutdown_grace_ms),
     "how long shutdown waits for clients' output to flush")
    ("dead-peer-timeout", po::value(&raw.dead_peer_timeout)->default_value(raw.dead_peer_timeout),
     "seconds within which a peer whose path vanished is dropped and its room told "
     "(TCP keepalive and TCP_USER_TIMEOUT); 4 to 86400, or 0 = the kernel's timings (hours)")
    ("resume-window", po::value(&raw.resume_window)->default_value(raw.resume_window),
     "cluster: seconds a node that stops gracefully holds its clients' names for resume on "
     "another node before they are announced disconnected; 0 = at once (at most 3600)")
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
    ("redis-user", po::value(&raw.redis_user)->default_value(""),
     "Redis ACL user the node authenticates as (AUTH user password; needs CTURN_REDIS_PASSWORD); "
     "empty = Redis's default user")
    ("redis-sentinels", po::value(&raw.redis_sentinels)->default_value(""),
     "HOST:PORT[,HOST:PORT...] of Redis Sentinels to ask for the master, instead of --redis "
     "(asked without a password); needs --redis-master")
    ("redis-master", po::value(&raw.redis_master)->default_value(""),
     "the master's name as the Sentinels monitor it (`sentinel monitor NAME ...`)")
    ("tls-cert", po::value(&raw.tls_cert)->default_value(""),
     "PEM certificate chain (leaf first) for TLS on the client port, beside plain TCP; "
     "reloaded on SIGHUP and when it changes (--tls-watch)")
    ("tls-key", po::value(&raw.tls_key)->default_value(""),
     "PEM private key of --tls-cert; reloaded with it")
    ("tls-required", po::value(&raw.tls_required)->default_value(false)->implicit_value(true),
     "turn plain TCP clients away with `TLS required`")
    ("tls-watch", po::value(&raw.tls_watch)->default_value(raw.tls_watch),
     "seconds between looks at --tls-cert and --tls-key: a changed file reloads both, as "
     "SIGHUP does; 0 = only on SIGHUP (at most 3600)")
    ("check", "probe the server at --bind/--port and exit 0 if it answers")
    ("print-config", "print the settings in effect and where each came from, then exit")
    ("help", "show this help")
    ("version", "show the version");
  // clang-format on
  return options;
}

bool is_action(std::string_view flag) {
  return flag == "check" || flag == "help" || flag == "version" || flag == "print-config";
}

// Where each setting's value came from, and what a message about it calls it.
enum class origin { default_value, flag, environment };

struct origins {
  std::map<std::string, origin, std::less<>> of;

  std::string name(std::string_view flag) const {
    const auto found = of.find(flag);
    if (found != of.end() && found->second == origin::environment)
      return environment_name(flag);
    return "--" + std::string(flag);
  }
};

// Fills what the command line left unset from the environment, one variable
// at a time, so that an error names the variable. An empty variable is unset.
tl::expected<origins, std::string> read_environment(const po::options_description& options,
                                                    po::variables_map& values,
                                                    const environment_lookup& environment) {
  origins found;
  for (const auto& option : options.options()) {
    const std::string& flag = option->long_name();
    if (is_action(flag))
      continue;
    if (values.count(flag) != 0 && !values[flag].defaulted()) {
      found.of[flag] = origin::flag;
      continue;
    }
    const std::string variable = environment_name(flag);
    const char* value = environment(variable.c_str());
    if (value == nullptr || *value == '\0') {
      found.of[flag] = origin::default_value;
      continue;
    }
    const std::vector<std::string> argument = {"--" + flag + "=" + value};
    try {
      po::store(po::command_line_parser(argument).options(options).run(), values);
    } catch (const po::error& error) {
      return tl::unexpected(variable + "=" + value + " is not valid (" + error.what() + ")");
    }
    found.of[flag] = origin::environment;
  }
  return found;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

constexpr std::string_view password_variable = "CTURN_REDIS_PASSWORD";

std::vector<unknown_variable> find_unknown_variables(const po::options_description& options,
                                                     const std::vector<std::string>& names) {
  std::vector<std::string> known = {std::string(password_variable)};
  for (const auto& option : options.options()) {
    if (!is_action(option->long_name()))
      known.push_back(environment_name(option->long_name()));
  }
  std::vector<unknown_variable> unknown;
  for (const std::string& name : names) {
    if (!name.starts_with("CTURN_") || std::find(known.begin(), known.end(), name) != known.end())
      continue;
    unknown_variable variable{name, {}};
    std::size_t best = 3;  // a suggestion only for a near miss
    for (const std::string& candidate : known) {
      if (const std::size_t distance = edit_distance(name, candidate); distance < best) {
        best = distance;
        variable.suggestion = candidate;
      }
    }
    unknown.push_back(std::move(variable));
  }
  return unknown;
}

std::string value_text(const po::variable_value& value) {
  std::ostringstream text;
  if (const auto* number = boost::any_cast<std::int64_t>(&value.value()))
    text << *number;
  else if (const auto* real = boost::any_cast<double>(&value.value()))
    text << *real;
  else if (const auto* string = boost::any_cast<std::string>(&value.value()))
    text << (string->empty() ? "\"\"" : *string);
  else if (const auto* flag = boost::any_cast<bool>(&value.value()))
    text << (*flag ? "true" : "false");
  return text.str();
}

// --print-config: one line per setting, `name  from  value`; secrets masked.
std::string describe_settings(const po::options_description& options,
                              const po::variables_map& values, const origins& found,
                              const environment_lookup& environment,
                              const std::vector<unknown_variable>& unknown) {
  std::ostringstream text;
  const auto line = [&text](std::string_view name, std::string_view from, std::string_view value) {
    text << name << std::string(name.size() < 28 ? 28 - name.size() : 1, ' ') << from
         << std::string(from.size() < 36 ? 36 - from.size() : 1, ' ') << value << '\n';
  };
  line("# setting", "from", "value");
  for (const auto& option : options.options()) {
    const std::string& flag = option->long_name();
    if (is_action(flag))
      continue;
    const origin from = found.of.at(flag);
    // The one default that depends on the machine: show what it came to.
    const bool computed = flag == "max-buffered-bytes" && from == origin::default_value;
    line(flag,
         from == origin::flag          ? "flag --" + flag
         : from == origin::environment ? "env " + environment_name(flag)
                                       : "default",
         computed ? std::to_string(default_output_budget()) + " (a quarter of memory)"
                  : value_text(values[flag]));
  }
  const char* password = environment(password_variable.data());
  const bool has_password = password != nullptr && *password != '\0';
  line("redis-password", has_password ? "env " + std::string(password_variable) : "default",
       has_password ? "(set, not shown)" : "\"\"");
  for (const unknown_variable& variable : unknown) {
    text << "# unknown variable " << variable.name << " ignored";
    if (!variable.suggestion.empty())
      text << " (did you mean " << variable.suggestion << "?)";
    text << '\n';
  }
  return text.str();
}

constexpr std::int64_t one_week_ms = 7LL * 24 * 3600 * 1000;
constexpr std::int64_t one_gibibyte = 1LL << 30;

tl::expected<void, std::string> check_range(const std::string& name, std::int64_t value,
                                            std::int64_t highest) {
  if (value >= 0 && value <= highest)
    return {};
  return tl::unexpected(name + " must be between 0 and " + std::to_string(highest));
}

// 0, or a bound dead_peer_timing_within can keep.
tl::expected<void, std::string> check_dead_peer_timeout(const std::string& name,
                                                        std::int64_t seconds) {
  if (seconds == 0 || (seconds >= shortest_dead_peer_timeout.count() &&
                       seconds <= longest_dead_peer_timeout.count()))
    return {};
  return tl::unexpected(name + " must be 0 or between " +
                        std::to_string(shortest_dead_peer_timeout.count()) + " and " +
                        std::to_string(longest_dead_peer_timeout.count()));
}

tl::expected<void, std::string> check_rate(const std::string& name, double value) {
  if (std::isfinite(value) && value >= 0 && value <= 1e9)
    return {};
  return tl::unexpected(name + " must be a number between 0 and 1e9");
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

// A listening address must be an IP address: a host name can stand for
// several addresses, and one listener cannot take them all.
tl::expected<void, std::string> check_listen_address(const std::string& name,
                                                     const std::string& address) {
  boost::system::error_code error;
  boost::asio::ip::make_address(address, error);
  if (!error)
    return {};
  return tl::unexpected(name + " wants an IP address, not \"" + address +
                        "\": e.g. 127.0.0.1 or ::1 for this machine only, 0.0.0.0 or :: for "
                        "every interface (a host name may stand for several addresses; give the "
                        "one to listen on)");
}

// --redis-sentinels and --redis-master go together, and not with --redis:
// a node that took either address when both are given could serve on a
// server the other nodes do not use.
tl::expected<std::vector<std::pair<std::string, std::uint16_t>>, std::string> parse_sentinels(
    const raw_options& raw, const origins& found) {
  const auto name = [&found](std::string_view flag) { return found.name(flag); };
  std::vector<std::pair<std::string, std::uint16_t>> sentinels;
  if (raw.redis_sentinels.empty() && raw.redis_master.empty())
    return sentinels;
  if (!raw.redis.empty())
    return tl::unexpected(name("redis") + " and " + name("redis-sentinels") +
                          " exclude each other: give the Redis address, or the Sentinels that "
                          "name it");
  if (raw.redis_sentinels.empty() || raw.redis_master.empty())
    return tl::unexpected(name("redis-sentinels") + " and " + name("redis-master") +
                          " go together");
  std::string_view rest = raw.redis_sentinels;
  while (true) {
    const auto comma = rest.find(',');
    const auto address = split_host_port(std::string(rest.substr(0, comma)));
    if (!address)
      return tl::unexpected(name("redis-sentinels") +
                            " must be HOST:PORT[,HOST:PORT...], e.g. "
                            "10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379");
    sentinels.push_back(*address);
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  return sentinels;
}

tl::expected<server_config, std::string> validate(const raw_options& raw, const origins& found) {
  const auto name = [&found](std::string_view flag) { return found.name(flag); };
  const tl::expected<void, std::string> checks[] = {
      check_range(name("port"), raw.port, 65535),
      check_range(name("threads"), raw.threads, 1024),
      check_range(name("max-line-bytes"), raw.max_line_bytes, one_gibibyte),
      check_range(name("max-output-bytes"), raw.max_output_bytes, 64 * one_gibibyte),
      found.of.at("max-buffered-bytes") == origin::default_value
          ? tl::expected<void, std::string>{}
          : check_range(name("max-buffered-bytes"), raw.max_buffered_bytes, 1024 * one_gibibyte),
      check_range(name("username-timeout-ms"), raw.username_timeout_ms, one_week_ms),
      check_range(name("max-connections"), raw.max_connections, 10'000'000),
      check_range(name("max-connections-per-source"), raw.max_connections_per_source, 10'000'000),
      check_range(name("shutdown-grace-ms"), raw.shutdown_grace_ms, one_week_ms),
      check_dead_peer_timeout(name("dead-peer-timeout"), raw.dead_peer_timeout),
      check_range(name("resume-window"), raw.resume_window, 3600),
      check_range(name("tls-watch"), raw.tls_watch, 3600),
      check_rate(name("rate-limit"), raw.rate_limit),
      check_rate(name("rate-burst"), raw.rate_burst),
      check_rate(name("rate-limit-bytes"), raw.rate_limit_bytes),
      check_rate(name("rate-burst-bytes"), raw.rate_burst_bytes),
      check_listen_address(name("bind"), raw.bind),
  };
  for (const auto& result : checks) {
    if (!result)
      return tl::unexpected(result.error());
  }
  if (raw.rate_limit > 0 && raw.rate_burst < 1)
    return tl::unexpected(name("rate-burst") + " must be at least 1 when " + name("rate-limit") +
                          " is on");
  if (raw.rate_limit_bytes > 0 && raw.rate_burst_bytes < 1)
    return tl::unexpected(name("rate-burst-bytes") + " must be at least 1 when " +
                          name("rate-limit-bytes") + " is on");
  const auto level = parse_log_level(raw.log_level);
  if (!level)
    return tl::unexpected(name("log-level") + " must be one of debug, info, warn, error, off");

  server_config config;
  if (!raw.redis.empty()) {
    const auto address = split_host_port(raw.redis);
    if (!address)
      return tl::unexpected(name("redis") + " must be HOST:PORT, e.g. 127.0.0.1:6379");
    config.redis_host = address->first;
    config.redis_port = address->second;
  }
  config.redis_user = raw.redis_user;
  auto sentinels = parse_sentinels(raw, found);
  if (!sentinels)
    return tl::unexpected(sentinels.error());
  config.redis_sentinels = std::move(*sentinels);
  config.redis_master = raw.redis_master;
  if (!raw.metrics.empty()) {
    const auto address = split_host_port(raw.metrics, 0);
    if (!address)
      return tl::unexpected(name("metrics") + " must be HOST:PORT, e.g. 0.0.0.0:9337");
    if (const auto checked =
            check_listen_address(name("metrics") + " (its HOST part)", address->first);
        !checked)
      return tl::unexpected(checked.error());
    config.metrics_host = address->first;
    config.metrics_port = address->second;
  }
  auto trusted = parse_address_ranges(raw.trusted_proxies);
  if (!trusted)
    return tl::unexpected(name("trusted-proxies") +
                          " must be CIDR[,CIDR...], e.g. 10.0.0.0/8,::1 (" + trusted.error() + ")");
  config.trusted_proxies = std::move(*trusted);
  if (raw.tls_cert.empty() != raw.tls_key.empty())
    return tl::unexpected(name("tls-cert") + " and " + name("tls-key") + " go together");
  if (raw.tls_required && raw.tls_cert.empty())
    return tl::unexpected(name("tls-required") + " needs " + name("tls-cert") + " and " +
                          name("tls-key"));
  config.tls_certificate_file = raw.tls_cert;
  config.tls_key_file = raw.tls_key;
  config.tls_required = raw.tls_required;
  config.tls_watch_interval = std::chrono::seconds(raw.tls_watch);
  config.bind_address = raw.bind;
  config.port = static_cast<std::uint16_t>(raw.port);
  config.threads = static_cast<unsigned>(raw.threads);
  config.max_line_bytes = static_cast<std::size_t>(raw.max_line_bytes);
  config.max_output_bytes = static_cast<std::size_t>(raw.max_output_bytes);
  config.max_buffered_bytes = raw.max_buffered_bytes == -1
                                  ? default_output_budget()
                                  : static_cast<std::size_t>(raw.max_buffered_bytes);
  config.username_timeout = std::chrono::milliseconds(raw.username_timeout_ms);
  config.max_connections = static_cast<std::size_t>(raw.max_connections);
  config.max_connections_per_source = static_cast<std::size_t>(raw.max_connections_per_source);
  config.rate_limit = raw.rate_limit;
  config.rate_burst = raw.rate_burst;
  config.rate_limit_bytes = raw.rate_limit_bytes;
  config.rate_burst_bytes = raw.rate_burst_bytes;
  config.shutdown_grace = std::chrono::milliseconds(raw.shutdown_grace_ms);
  config.dead_peer_timeout = std::chrono::seconds(raw.dead_peer_timeout);
  config.resume_window = std::chrono::seconds(raw.resume_window);
  config.level = *level;
  return config;
}

}  // namespace

tl::expected<command_line, std::string> parse_command_line(
    int argc, const char* const argv[], const environment_lookup& environment,
    const std::vector<std::string>& environment_names) {
  raw_options raw;
  const po::options_description options = make_options(raw);
  // No positional arguments: `cturn-server 8080` is an error, not port 1337.
  const po::positional_options_description no_positionals;

  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(no_positionals).run(),
              values);
  } catch (const po::error& error) {
    return tl::unexpected(std::string(error.what()));
  }

  // Help and version before the environment is read: a bad variable must not
  // keep anyone from reading how to fix it.
  command_line result;
  if (values.count("help") != 0) {
    std::ostringstream text;
    text << "Usage: cturn-server [options]\n\nCTurn chat relay server.\n\n"
         << options
         << "\nAn empty CTURN_<NAME> variable counts as unset. CTURN_REDIS_PASSWORD holds the "
            "Redis password.\n";
    result.action = startup_action::print_and_exit;
    result.text = text.str();
    return result;
  }
  if (values.count("version") != 0) {
    result.action = startup_action::print_and_exit;
    result.text = "cturn-server " CTURN_VERSION "\n";
    return result;
  }

  const auto found = read_environment(options, values, environment);
  if (!found)
    return tl::unexpected(found.error());
  try {
    po::notify(values);
  } catch (const po::error& error) {
    return tl::unexpected(std::string(error.what()));
  }
  auto config = validate(raw, *found);
  if (!config)
    return tl::unexpected(config.error());
  result.config = std::move(*config);
  if (const char* password = environment(password_variable.data()))
    result.config.redis_password = password;
  // A user without a password would be sent as the default user's password.
  if (!result.config.redis_user.empty() && result.config.redis_password.empty())
    return tl::unexpected(found->name("redis-user") + " needs the password in " +
                          std::string(password_variable));
  result.unknown_variables = find_unknown_variables(options, environment_names);
  if (values.count("print-config") != 0) {
    result.action = startup_action::print_and_exit;
    result.text = describe_settings(options, values, *found, environment, result.unknown_variables);
  } else if (values.count("check") != 0) {
    result.action = startup_action::check;
  }
  return result;
}

}  // namespace cturn
