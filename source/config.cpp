#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include <boost/program_options.hpp>

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

po::options_description make_options(server_config& config, std::string& level_name,
                                     unsigned& port, std::uint64_t& username_timeout_ms,
                                     std::uint64_t& shutdown_grace_ms) {
  po::options_description options("Options (each also read from CTURN_<NAME>, e.g. CTURN_PORT)");
  // clang-format off
  options.add_options()
    ("bind", po::value(&config.bind_address)->default_value(config.bind_address),
     "address to listen on")
    ("port", po::value(&port)->default_value(config.port),
     "TCP port; 0 picks a free one")
    ("threads", po::value(&config.threads)->default_value(config.threads),
     "I/O threads; 0 = one per available core")
    ("max-line-bytes", po::value(&config.max_line_bytes)->default_value(config.max_line_bytes),
     "longest accepted line without its newline; 0 = no limit")
    ("max-output-bytes", po::value(&config.max_output_bytes)->default_value(config.max_output_bytes),
     "pending output per client before it is dropped as a slow consumer; 0 = no limit")
    ("username-timeout-ms", po::value(&username_timeout_ms)->default_value(
        static_cast<std::uint64_t>(config.username_timeout.count())),
     "time allowed to set a username after connecting; 0 = no limit")
    ("max-connections", po::value(&config.max_connections)->default_value(config.max_connections),
     "simultaneous connections; 0 = only the file-descriptor limit")
    ("rate-limit", po::value(&config.rate_limit)->default_value(config.rate_limit, "200"),
     "frames per second per client, sustained; 0 = no limit")
    ("rate-burst", po::value(&config.rate_burst)->default_value(config.rate_burst, "400"),
     "frames a client may send in one burst")
    ("shutdown-grace-ms", po::value(&shutdown_grace_ms)->default_value(
        static_cast<std::uint64_t>(config.shutdown_grace.count())),
     "how long shutdown waits for clients' output to flush")
    ("log-level", po::value(&level_name)->default_value("info"),
     "debug, info, warn, error or off")
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
    if (flag == "check" || flag == "help" || flag == "version") continue;
    if (given.count(flag) != 0 && !given[flag].defaulted()) continue;
    if (const char* value = environment(environment_name(flag).c_str()))
      arguments.push_back("--" + flag + "=" + value);
  }
  return arguments;
}

tl::expected<void, std::string> validate(const server_config& config, unsigned port) {
  if (port > 65535) return tl::unexpected(std::string("--port must be at most 65535"));
  if (config.threads > 1024) return tl::unexpected(std::string("--threads must be at most 1024"));
  if (config.rate_limit < 0 || config.rate_burst < 0)
    return tl::unexpected(std::string("--rate-limit and --rate-burst must not be negative"));
  if (config.rate_limit > 0 && config.rate_burst < 1)
    return tl::unexpected(std::string("--rate-burst must be at least 1 when --rate-limit is on"));
  return {};
}

}  // namespace

tl::expected<command_line, std::string> parse_command_line(int argc, const char* const argv[],
                                                           const environment_lookup& environment) {
  command_line result;
  server_config& config = result.config;
  std::string level_name;
  unsigned port = 0;
  std::uint64_t username_timeout_ms = 0;
  std::uint64_t shutdown_grace_ms = 0;
  const po::options_description options =
      make_options(config, level_name, port, username_timeout_ms, shutdown_grace_ms);

  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), values);
    // A second store() fills only what the command line left at its default.
    po::store(po::command_line_parser(arguments_from_environment(options, values, environment))
                  .options(options)
                  .run(),
              values);
    po::notify(values);
  } catch (const po::error& error) {
    return tl::unexpected(std::string(error.what()));
  }

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
  if (values.count("check") != 0) result.action = startup_action::check;

  const auto level = parse_log_level(level_name);
  if (!level) return tl::unexpected(std::string("--log-level must be one of debug, info, warn, error, off"));
  config.level = *level;
  if (auto valid = validate(config, port); !valid) return tl::unexpected(valid.error());
  config.port = static_cast<std::uint16_t>(port);
  config.username_timeout = std::chrono::milliseconds(username_timeout_ms);
  config.shutdown_grace = std::chrono::milliseconds(shutdown_grace_ms);
  return result;
}

}  // namespace cturn
