#include <boost/test/unit_test.hpp>
#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "memory_limit.hpp"
#include "test_print.hpp"

namespace {

using namespace std::chrono_literals;
using environment = std::map<std::string, std::string>;
using parsed = tl::expected<cturn::command_line, std::string>;

struct parse_result {
  parsed result;
  std::vector<std::string> looked_up;  // environment variables asked for
};

// With `variables` also listed as the environment's names, as main() does.
parse_result parse_with(const std::vector<std::string>& flags, const environment& variables = {}) {
  std::vector<const char*> argv = {"cturn-server"};
  for (const std::string& flag : flags)
    argv.push_back(flag.c_str());
  std::vector<std::string> looked_up;
  const auto lookup = [&](const char* name) -> const char* {
    looked_up.emplace_back(name);
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  };
  std::vector<std::string> names;
  for (const auto& [name, value] : variables)
    names.push_back(name);
  parsed result =
      cturn::parse_command_line(static_cast<int>(argv.size()), argv.data(), lookup, names);
  return {std::move(result), std::move(looked_up)};
}

cturn::server_config config_of(const std::vector<std::string>& flags,
                               const environment& variables = {}) {
  auto [result, ignored] = parse_with(flags, variables);
  if (!result)
    BOOST_FAIL("rejected: " << result.error());
  BOOST_TEST(result->action == cturn::startup_action::serve);
  return result->config;
}

// The error message for bad input; fails the test case if the input was accepted.
std::string error_of(const std::vector<std::string>& flags, const environment& variables = {}) {
  auto [result, ignored] = parse_with(flags, variables);
  if (result) {
    std::string joined;
    for (const std::string& flag : flags)
      joined.append(flag).append(" ");
    for (const auto& [name, value] : variables)
      joined.append(name).append("=").append(value).append(" ");
    BOOST_ERROR("accepted: " << joined);
    return {};
  }
  BOOST_TEST(!result.error().empty());
  return result.error();
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults) {
  const auto [result, looked_up] = parse_with({});
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(result->action == cturn::startup_action::serve);
  BOOST_TEST(result->text.empty());
  const cturn::server_config& config = result->config;
  BOOST_TEST(config.bind_address == "0.0.0.0");
  BOOST_TEST(config.port == 1337);
  BOOST_TEST(config.threads == 0u);
  BOOST_TEST(config.max_line_bytes == 64u * 1024u);
  BOOST_TEST(config.max_output_bytes == 4u * 1024u * 1024u);
  BOOST_TEST(config.max_buffered_bytes == cturn::default_output_budget());
  BOOST_TEST(config.max_buffered_bytes > 0u);
  BOOST_TEST(config.username_timeout.count() == 30'000);
  BOOST_TEST(config.max_connections == 10'000u);
  BOOST_TEST(config.max_connections_per_source == 64u);
  BOOST_TEST(config.rate_limit == 200.0);
  BOOST_TEST(config.rate_burst == 400.0);
  BOOST_TEST(config.rate_limit_bytes == 1048576.0);
  BOOST_TEST(config.rate_burst_bytes == 1048576.0);
  BOOST_TEST(config.shutdown_grace.count() == 5'000);
  BOOST_TEST(config.dead_peer_timeout.count() == 60);
  BOOST_TEST(config.level == cturn::log_level::info);
}

BOOST_AUTO_TEST_CASE(every_flag) {
  const cturn::server_config config = config_of({
      "--bind=127.0.0.1",
      "--port=4000",
      "--threads=3",
      "--max-line-bytes=1024",
      "--max-output-bytes=2048",
      "--max-buffered-bytes=1000000",
      "--username-timeout-ms=1500",
      "--max-connections=7",
      "--max-connections-per-source=3",
      "--rate-limit=12.5",
      "--rate-burst=30",
      "--rate-limit-bytes=5000",
      "--rate-burst-bytes=7000",
      "--shutdown-grace-ms=250",
      "--dead-peer-timeout=9",
      "--log-level=debug",
  });
  BOOST_TEST(config.bind_address == "127.0.0.1");
  BOOST_TEST(config.port == 4000);
  BOOST_TEST(config.threads == 3u);
  BOOST_TEST(config.max_line_bytes == 1024u);
  BOOST_TEST(config.max_output_bytes == 2048u);
  BOOST_TEST(config.max_buffered_bytes == 1'000'000u);
  BOOST_TEST(config.username_timeout.count() == 1500);
  BOOST_TEST(config.max_connections == 7u);
  BOOST_TEST(config.max_connections_per_source == 3u);
  BOOST_TEST(config.rate_limit == 12.5);
  BOOST_TEST(config.rate_burst == 30.0);
  BOOST_TEST(config.rate_limit_bytes == 5000.0);
  BOOST_TEST(config.rate_burst_bytes == 7000.0);
  BOOST_TEST(config.shutdown_grace.count() == 250);
  BOOST_TEST(config.dead_peer_timeout.count() == 9);
  BOOST_TEST(config.level == cturn::log_level::debug);
}

BOOST_AUTO_TEST_CASE(flag_value_as_next_argument) {
  const cturn::server_config config =
      config_of({"--port", "4001", "--bind", "::1", "--log-level", "off"});
  BOOST_TEST(config.port == 4001);
  BOOST_TEST(config.bind_address == "::1");
  BOOST_TEST(config.level == cturn::log_level::off);
}

BOOST_AUTO_TEST_CASE(every_log_level) {
  BOOST_TEST(config_of({"--log-level=debug"}).level == cturn::log_level::debug);
  BOOST_TEST(config_of({"--log-level=info"}).level == cturn::log_level::info);
  BOOST_TEST(config_of({"--log-level=warn"}).level == cturn::log_level::warn);
  BOOST_TEST(config_of({"--log-level=error"}).level == cturn::log_level::error);
  BOOST_TEST(config_of({"--log-level=off"}).level == cturn::log_level::off);
}

BOOST_AUTO_TEST_CASE(environment_fallback) {
  const cturn::server_config config = config_of({}, {
                                                        {"CTURN_BIND", "10.0.0.1"},
                                                        {"CTURN_PORT", "4002"},
                                                        {"CTURN_THREADS", "2"},
                                                        {"CTURN_MAX_LINE_BYTES", "100"},
                                                        {"CTURN_MAX_OUTPUT_BYTES", "200"},
                                                        {"CTURN_USERNAME_TIMEOUT_MS", "300"},
                                                        {"CTURN_MAX_CONNECTIONS", "400"},
                                                        {"CTURN_MAX_CONNECTIONS_PER_SOURCE", "9"},
                                                        {"CTURN_RATE_LIMIT", "5"},
                                                        {"CTURN_RATE_BURST", "6"},
                                                        {"CTURN_SHUTDOWN_GRACE_MS", "700"},
                                                        {"CTURN_DEAD_PEER_TIMEOUT", "45"},
                                                        {"CTURN_LOG_LEVEL", "warn"},
                                                    });
  BOOST_TEST(config.bind_address == "10.0.0.1");
  BOOST_TEST(config.port == 4002);
  BOOST_TEST(config.threads == 2u);
  BOOST_TEST(config.max_line_bytes == 100u);
  BOOST_TEST(config.max_output_bytes == 200u);
  BOOST_TEST(config.username_timeout.count() == 300);
  BOOST_TEST(config.max_connections == 400u);
  BOOST_TEST(config.max_connections_per_source == 9u);
  BOOST_TEST(config.rate_limit == 5.0);
  BOOST_TEST(config.rate_burst == 6.0);
  BOOST_TEST(config.shutdown_grace.count() == 700);
  BOOST_TEST(config.dead_peer_timeout.count() == 45);
  BOOST_TEST(config.level == cturn::log_level::warn);
}

BOOST_AUTO_TEST_CASE(flags_beat_environment) {
  const environment variables = {
      {"CTURN_PORT", "4003"}, {"CTURN_LOG_LEVEL", "error"}, {"CTURN_MAX_LINE_BYTES", "10"}};
  const cturn::server_config config = config_of({"--port=5000", "--log-level=debug"}, variables);
  BOOST_TEST(config.port == 5000);
  BOOST_TEST(config.level == cturn::log_level::debug);
  BOOST_TEST(config.max_line_bytes == 10u);  // not given as a flag: the environment's
  // A flag given with the default value still beats the environment.
  BOOST_TEST(config_of({"--port=1337"}, variables).port == 1337);
  // A bad environment value for a flag that was given does not matter.
  BOOST_TEST(config_of({"--port=5001"}, {{"CTURN_PORT", "nonsense"}}).port == 5001);
}

BOOST_AUTO_TEST_CASE(only_cturn_variables_are_read) {
  const auto [result, looked_up] = parse_with({});
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!looked_up.empty());
  for (const std::string& name : looked_up)
    BOOST_TEST(name.rfind("CTURN_", 0) == 0, name);
  // The actions are flags only.
  const auto [actions, ignored] =
      parse_with({}, {{"CTURN_HELP", "1"}, {"CTURN_VERSION", "1"}, {"CTURN_CHECK", "1"}});
  BOOST_REQUIRE(actions.has_value());
  BOOST_TEST(actions->action == cturn::startup_action::serve);
}

BOOST_AUTO_TEST_CASE(bad_port) {
  BOOST_TEST(mentions(error_of({"--port=70000"}), "port"));
  BOOST_TEST(mentions(error_of({"--port=65536"}), "port"));
  BOOST_TEST(mentions(error_of({"--port=abc"}), "port"));
  BOOST_TEST(mentions(error_of({"--port=-1"}), "port"));
  BOOST_TEST(mentions(error_of({"--port="}), "port"));
  BOOST_TEST(mentions(error_of({"--port"}), "port"));
  BOOST_TEST(mentions(error_of({}, {{"CTURN_PORT", "70000"}}), "CTURN_PORT"));
  BOOST_TEST(mentions(error_of({}, {{"CTURN_PORT", "x"}}), "CTURN_PORT"));
  BOOST_TEST(config_of({"--port=65535"}).port == 65535);
  BOOST_TEST(config_of({"--port=0"}).port == 0);
}

BOOST_AUTO_TEST_CASE(unknown_flag) {
  BOOST_TEST(mentions(error_of({"--bogus"}), "bogus"));
  BOOST_TEST(mentions(error_of({"--bogus=1"}), "bogus"));
  BOOST_TEST(!error_of({"-p", "4000"}).empty());
}

BOOST_AUTO_TEST_CASE(bad_log_level) {
  BOOST_TEST(mentions(error_of({"--log-level=verbose"}), "log-level"));
  BOOST_TEST(mentions(error_of({"--log-level=INFO"}), "log-level"));
  BOOST_TEST(mentions(error_of({}, {{"CTURN_LOG_LEVEL", "loud"}}), "CTURN_LOG_LEVEL"));
}

BOOST_AUTO_TEST_CASE(other_bad_values) {
  BOOST_TEST(mentions(error_of({"--threads=2000"}), "threads"));
  BOOST_TEST(mentions(error_of({"--rate-limit=-1"}), "rate"));
  BOOST_TEST(mentions(error_of({"--rate-burst=-1"}), "rate"));
  BOOST_TEST(mentions(error_of({"--rate-limit=10", "--rate-burst=0.5"}), "rate-burst"));
  BOOST_TEST(mentions(error_of({"--rate-burst-bytes=0.5"}), "--rate-burst-bytes"));
  BOOST_TEST(mentions(error_of({"--rate-limit-bytes=-1"}), "--rate-limit-bytes"));
  BOOST_TEST(config_of({"--rate-limit-bytes=0", "--rate-burst-bytes=0"}).rate_limit_bytes == 0.0);
  BOOST_TEST(mentions(error_of({"--max-line-bytes=lots"}), "max-line-bytes"));
  BOOST_TEST(mentions(error_of({"--username-timeout-ms=1s"}), "username-timeout-ms"));
  BOOST_TEST(mentions(error_of({"--port=1", "--port=2"}), "port"));
}

// Unsigned options must not wrap a minus sign into a huge value.
BOOST_AUTO_TEST_CASE(negative_values_are_rejected) {
  error_of({"--max-connections=-1"});
  error_of({"--max-connections-per-source=-1"});
  error_of({"--max-line-bytes=-1"});
  error_of({"--max-output-bytes=-1"});
  // -1 stands for "a quarter of memory" inside; given, it is an error.
  error_of({"--max-buffered-bytes=-1"});
  error_of({}, {{"CTURN_MAX_BUFFERED_BYTES", "-1"}});
  error_of({"--username-timeout-ms=-1"});
  error_of({"--shutdown-grace-ms=-1"});
  error_of({"--dead-peer-timeout=-1"});
  error_of({}, {{"CTURN_USERNAME_TIMEOUT_MS", "-5"}});
}

// A timeout too large for std::chrono::milliseconds must not become negative
// (a negative username timeout is treated as "no limit").
BOOST_AUTO_TEST_CASE(huge_timeouts_do_not_wrap) {
  for (const std::string flag :
       {"--username-timeout-ms=9223372036854775808", "--shutdown-grace-ms=18446744073709551615"}) {
    auto [result, ignored] = parse_with({flag});
    BOOST_TEST_CONTEXT(flag) {
      if (result) {
        BOOST_TEST(result->config.username_timeout.count() >= 0);
        BOOST_TEST(result->config.shutdown_grace.count() >= 0);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(non_finite_rates_are_rejected) {
  error_of({"--rate-limit=nan"});
  error_of({"--rate-burst=nan"});
  error_of({"--rate-limit=inf"});
}

// `cturn-server 8080` must not start quietly on 1337.
BOOST_AUTO_TEST_CASE(stray_argument_is_rejected) {
  error_of({"8080"});
}

BOOST_AUTO_TEST_CASE(trusted_proxies) {
  BOOST_TEST(config_of({}).trusted_proxies.empty());
  const auto ranges = config_of({"--trusted-proxies=10.0.0.0/8, ::1"}).trusted_proxies;
  BOOST_REQUIRE(ranges.size() == 2u);
  BOOST_TEST(ranges[0].to_string() == "10.0.0.0/8");
  BOOST_TEST(ranges[1].to_string() == "::1/128");
  BOOST_TEST(config_of({}, {{"CTURN_TRUSTED_PROXIES", "172.16.0.0/12"}}).trusted_proxies.size() ==
             1u);
  BOOST_TEST(mentions(error_of({"--trusted-proxies=10.0.0.0/33"}), "trusted-proxies"));
  BOOST_TEST(mentions(error_of({"--trusted-proxies=haproxy"}), "haproxy"));
}

BOOST_AUTO_TEST_CASE(zero_switches_limits_off) {
  const cturn::server_config config =
      config_of({"--max-line-bytes=0", "--max-output-bytes=0", "--username-timeout-ms=0",
                 "--max-connections=0", "--max-connections-per-source=0", "--rate-limit=0",
                 "--rate-burst=0", "--threads=0"});
  BOOST_TEST(config.max_line_bytes == 0u);
  BOOST_TEST(config.max_output_bytes == 0u);
  BOOST_TEST(config.username_timeout.count() == 0);
  BOOST_TEST(config.max_connections == 0u);
  BOOST_TEST(config.max_connections_per_source == 0u);
  BOOST_TEST(config.rate_limit == 0.0);
  BOOST_TEST(config.rate_burst == 0.0);
  BOOST_TEST(config.threads == 0u);
  BOOST_TEST(config_of({}, {{"CTURN_MAX_LINE_BYTES", "0"}}).max_line_bytes == 0u);
  BOOST_TEST(config_of({"--max-buffered-bytes=0"}).max_buffered_bytes == 0u);
  // Empty means the default, as for every variable.
  BOOST_TEST(config_of({}, {{"CTURN_MAX_BUFFERED_BYTES", ""}}).max_buffered_bytes ==
             cturn::default_output_budget());
}

// 10 s by default, 0 (off) to an hour, from the flag or CTURN_RESUME_WINDOW.
BOOST_AUTO_TEST_CASE(resume_window) {
  BOOST_TEST(config_of({}).resume_window.count() == 10);
  BOOST_TEST(config_of({"--resume-window=0"}).resume_window.count() == 0);
  BOOST_TEST(config_of({"--resume-window=3600"}).resume_window.count() == 3600);
  BOOST_TEST(config_of({}, {{"CTURN_RESUME_WINDOW", "25"}}).resume_window.count() == 25);
  BOOST_TEST(
      config_of({"--resume-window=5"}, {{"CTURN_RESUME_WINDOW", "25"}}).resume_window.count() == 5);
  for (const char* bad : {"3601", "-1", "1.5", "10s", ""}) {
    const std::string error = error_of({std::string("--resume-window=") + bad});
    BOOST_TEST(mentions(error, "resume-window"), bad << ": " << error);
  }
}

// 0 or 4 s to a day: below 4 s half the bound leaves no room for a second of
// idleness and a probe.
BOOST_AUTO_TEST_CASE(dead_peer_timeout_range) {
  BOOST_TEST(config_of({"--dead-peer-timeout=0"}).dead_peer_timeout.count() == 0);
  BOOST_TEST(config_of({"--dead-peer-timeout=4"}).dead_peer_timeout.count() == 4);
  BOOST_TEST(config_of({"--dead-peer-timeout=86400"}).dead_peer_timeout.count() == 86'400);
  BOOST_TEST(config_of({}, {{"CTURN_DEAD_PEER_TIMEOUT", "0"}}).dead_peer_timeout.count() == 0);
  BOOST_TEST(config_of({"--dead-peer-timeout=30"}, {{"CTURN_DEAD_PEER_TIMEOUT", "5"}})
                 .dead_peer_timeout.count() == 30);
  for (const char* bad : {"1", "3", "86401", "-1", "1.5", "60s", "", "9223372036854775808"}) {
    const std::string error = error_of({std::string("--dead-peer-timeout=") + bad});
    BOOST_TEST(mentions(error, "dead-peer-timeout"), bad << ": " << error);
  }
  BOOST_TEST(mentions(error_of({"--dead-peer-timeout=3"}), "0 or between 4 and 86400"));
  BOOST_TEST(mentions(error_of({}, {{"CTURN_DEAD_PEER_TIMEOUT", "2"}}), "CTURN_DEAD_PEER_TIMEOUT"));
  BOOST_TEST(mentions(error_of({}, {{"CTURN_DEAD_PEER_TIMEOUT", "soon"}}), "dead-peer-timeout"));
}

BOOST_AUTO_TEST_CASE(help) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--help"}, std::vector<std::string>{"--port=1", "--help"},
        std::vector<std::string>{"--help", "--log-level=loud"}}) {
    auto [result, ignored] = parse_with(flags);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(result->action == cturn::startup_action::print_and_exit);
    BOOST_TEST(mentions(result->text, "Usage: cturn-server"));
    for (const char* option : {"--port", "--bind", "--max-line-bytes", "--dead-peer-timeout",
                               "--log-level", "--version", "CTURN_PORT"})
      BOOST_TEST(mentions(result->text, option), option);
  }
}

BOOST_AUTO_TEST_CASE(version) {
  auto [result, ignored] = parse_with({"--version"});
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(result->action == cturn::startup_action::print_and_exit);
  BOOST_TEST(result->text == "cturn-server " CTURN_EXPECTED_VERSION "\n");
}

BOOST_AUTO_TEST_CASE(check) {
  auto [result, ignored] = parse_with({"--check", "--port=4004", "--bind=127.0.0.1"});
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(result->action == cturn::startup_action::check);
  BOOST_TEST(result->config.port == 4004);
  BOOST_TEST(result->config.bind_address == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(tls_watch_interval) {
  BOOST_TEST(config_of({}).tls_watch_interval.count() == 10);
  BOOST_TEST(config_of({"--tls-watch=0"}).tls_watch_interval.count() == 0);
  BOOST_TEST(config_of({"--tls-watch=3600"}).tls_watch_interval.count() == 3600);
  BOOST_TEST(config_of({}, {{"CTURN_TLS_WATCH", "2"}}).tls_watch_interval.count() == 2);
  for (const char* bad : {"3601", "-1", "0.5", "10s", ""}) {
    const std::string error = error_of({std::string("--tls-watch=") + bad});
    BOOST_TEST(mentions(error, "tls-watch"), bad << ": " << error);
  }
}

BOOST_AUTO_TEST_CASE(tls_settings) {
  const auto off = config_of({});
  BOOST_TEST(off.tls_certificate_file.empty());
  BOOST_TEST(off.tls_key_file.empty());
  BOOST_TEST(!off.tls_required);

  const auto flags = config_of({"--tls-cert=chain.pem", "--tls-key=key.pem", "--tls-required"});
  BOOST_TEST(flags.tls_certificate_file == "chain.pem");
  BOOST_TEST(flags.tls_key_file == "key.pem");
  BOOST_TEST(flags.tls_required);

  const auto from_environment = config_of(
      {}, {{"CTURN_TLS_CERT", "c.pem"}, {"CTURN_TLS_KEY", "k.pem"}, {"CTURN_TLS_REQUIRED", "1"}});
  BOOST_TEST(from_environment.tls_certificate_file == "c.pem");
  BOOST_TEST(from_environment.tls_key_file == "k.pem");
  BOOST_TEST(from_environment.tls_required);
  BOOST_TEST(
      !config_of({"--tls-cert=c", "--tls-key=k"}, {{"CTURN_TLS_REQUIRED", "0"}}).tls_required);

  BOOST_TEST(mentions(error_of({"--tls-cert=c.pem"}), "--tls-key"));
  BOOST_TEST(mentions(error_of({"--tls-key=k.pem"}), "--tls-cert"));
  BOOST_TEST(mentions(error_of({"--tls-required"}), "--tls-required"));
}

// Compose and env files write `CTURN_METRICS=` to mean "off", i.e. the default.
BOOST_AUTO_TEST_CASE(empty_variable_means_default) {
  const cturn::server_config config = config_of({}, {{"CTURN_METRICS", ""},
                                                     {"CTURN_BIND", ""},
                                                     {"CTURN_PORT", ""},
                                                     {"CTURN_TRUSTED_PROXIES", ""},
                                                     {"CTURN_LOG_LEVEL", ""}});
  BOOST_TEST(config.metrics_host.empty());
  BOOST_TEST(config.bind_address == "0.0.0.0");
  BOOST_TEST(config.port == 1337);
  BOOST_TEST(config.trusted_proxies.empty());
  BOOST_TEST(config.level == cturn::log_level::info);
  // An empty flag is still an error: it was typed on purpose.
  BOOST_TEST(mentions(error_of({"--metrics="}), "metrics"));
}

BOOST_AUTO_TEST_CASE(environment_errors_name_the_variable) {
  for (const auto& [name, value] : environment{{"CTURN_PORT", "abc"},
                                               {"CTURN_PORT", "70000"},
                                               {"CTURN_THREADS", "-1"},
                                               {"CTURN_LOG_LEVEL", "loud"},
                                               {"CTURN_METRICS", "nowhere"},
                                               {"CTURN_REDIS", "redis"},
                                               {"CTURN_TRUSTED_PROXIES", "10.0.0.0/33"},
                                               {"CTURN_RATE_LIMIT", "nan"},
                                               {"CTURN_BIND", "localhost"}}) {
    const std::string error = error_of({}, {{name, value}});
    BOOST_TEST(mentions(error, name), error);
  }
  // The same mistake as a flag names the flag, not a variable.
  const std::string error = error_of({"--port=abc"});
  BOOST_TEST(mentions(error, "--port"), error);
  BOOST_TEST(!mentions(error, "CTURN_PORT"), error);
  // --rate-burst from the environment, --rate-limit from a flag: each by its own name.
  const std::string burst = error_of({"--rate-limit=5"}, {{"CTURN_RATE_BURST", "0.5"}});
  BOOST_TEST(mentions(burst, "CTURN_RATE_BURST"), burst);
  BOOST_TEST(mentions(burst, "--rate-limit"), burst);
}

BOOST_AUTO_TEST_CASE(help_and_version_whatever_the_environment_holds) {
  const environment broken = {{"CTURN_PORT", "abc"}, {"CTURN_LOG_LEVEL", "loud"}};
  for (const char* flag : {"--help", "--version"}) {
    auto [result, ignored] = parse_with({flag}, broken);
    BOOST_REQUIRE_MESSAGE(result.has_value(), flag);
    BOOST_TEST(result->action == cturn::startup_action::print_and_exit);
  }
}

BOOST_AUTO_TEST_CASE(unknown_variables_are_reported) {
  auto [result, ignored] = parse_with({}, {{"CTURN_PROT", "4000"},
                                           {"CTURN_SOMETHING_ELSE", "1"},
                                           {"CTURN_PORT", "4001"},
                                           {"CTURN_REDIS_PASSWORD", "x"},
                                           {"HOME", "/root"}});
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(result->config.port == 4001);
  const auto& unknown = result->unknown_variables;
  BOOST_REQUIRE(unknown.size() == 2u);
  BOOST_TEST(unknown[0].name == "CTURN_PROT");
  BOOST_TEST(unknown[0].suggestion == "CTURN_PORT");
  BOOST_TEST(unknown[1].name == "CTURN_SOMETHING_ELSE");
  BOOST_TEST(unknown[1].suggestion.empty());
  // Actions are flags only: their variables do nothing, so they are unknown too.
  auto [actions, unused] = parse_with({}, {{"CTURN_HELP", "1"}});
  BOOST_REQUIRE(actions.has_value());
  BOOST_TEST(actions->unknown_variables.size() == 1u);
}

BOOST_AUTO_TEST_CASE(bind_wants_an_address) {
  const std::string error = error_of({"--bind=localhost"});
  BOOST_TEST(mentions(error, "--bind wants an IP address"), error);
  BOOST_TEST(mentions(error, "localhost"), error);
  BOOST_TEST(mentions(error_of({"--metrics=localhost:9337"}), "--metrics"));
  BOOST_TEST(config_of({"--bind=::"}).bind_address == "::");
  // Redis is a client connection: a name is fine there (Compose's service name).
  BOOST_TEST(config_of({"--redis=redis:6379"}).redis_host == "redis");
}

BOOST_AUTO_TEST_CASE(redis_user_goes_with_the_password) {
  const auto config = config_of(
      {"--redis=redis:6379"}, {{"CTURN_REDIS_USER", "cturn"}, {"CTURN_REDIS_PASSWORD", "secret"}});
  BOOST_TEST(config.redis_user == "cturn");
  BOOST_TEST(config.redis_password == "secret");
  BOOST_TEST(config_of({"--redis=redis:6379"}).redis_user.empty());
  // Without a password the user would be sent to nobody: an error naming both.
  const std::string error = error_of({"--redis=redis:6379", "--redis-user=cturn"});
  BOOST_TEST(mentions(error, "--redis-user"), error);
  BOOST_TEST(mentions(error, "CTURN_REDIS_PASSWORD"), error);
  BOOST_TEST(mentions(error_of({}, {{"CTURN_REDIS_USER", "cturn"}}), "CTURN_REDIS_USER"));
}

BOOST_AUTO_TEST_CASE(print_config_names_each_source_and_hides_secrets) {
  auto [result, ignored] =
      parse_with({"--print-config", "--port=4000"}, {{"CTURN_MAX_CONNECTIONS", "12"},
                                                     {"CTURN_METRICS", ""},
                                                     {"CTURN_REDIS_PASSWORD", "hunter2-secret"}});
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(result->action == cturn::startup_action::print_and_exit);
  const std::string& text = result->text;
  const auto line_of = [&text](const std::string& setting) {
    const auto start = text.find("\n" + setting + " ");
    if (start == std::string::npos)
      return std::string();
    return text.substr(start + 1, text.find('\n', start + 1) - start - 1);
  };
  BOOST_TEST(mentions(line_of("port"), "flag --port"), line_of("port"));
  BOOST_TEST(mentions(line_of("port"), "4000"));
  BOOST_TEST(mentions(line_of("max-connections"), "env CTURN_MAX_CONNECTIONS"));
  BOOST_TEST(mentions(line_of("max-connections"), " 12"));
  BOOST_TEST(mentions(line_of("rate-limit"), "default"));
  BOOST_TEST(mentions(line_of("metrics"), "default"));
  BOOST_TEST(mentions(line_of("redis-password"), "env CTURN_REDIS_PASSWORD"));
  BOOST_TEST(!mentions(text, "hunter2"));
  // A bad setting is still an error, not something printed.
  error_of({"--print-config", "--port=abc"});
}

BOOST_AUTO_TEST_CASE(redis_sentinels_name_the_master_instead_of_redis) {
  const cturn::server_config config =
      config_of({}, {{"CTURN_REDIS_SENTINELS", "s1:26379,[::1]:26380,10.0.0.3:26381"},
                     {"CTURN_REDIS_MASTER", "cturn"}});
  BOOST_TEST(config.clustered());
  BOOST_TEST(config.redis_host.empty());
  BOOST_TEST(config.redis_master == "cturn");
  BOOST_REQUIRE(config.redis_sentinels.size() == 3u);
  BOOST_TEST(config.redis_sentinels[0].first == "s1");
  BOOST_TEST(config.redis_sentinels[1].first == "::1");
  BOOST_TEST(config.redis_sentinels[1].second == 26380);
  BOOST_TEST(config.redis_sentinels[2].second == 26381);
  BOOST_TEST(!config_of({}).clustered());

  // Both ways to Redis at once: the nodes could disagree on which is the master.
  const std::string both =
      error_of({"--redis=r:6379", "--redis-sentinels=s:26379", "--redis-master=cturn"});
  BOOST_TEST(mentions(both, "--redis and --redis-sentinels exclude each other"), both);
  const std::string alone = error_of({}, {{"CTURN_REDIS_SENTINELS", "s:26379"}});
  BOOST_TEST(mentions(alone, "CTURN_REDIS_SENTINELS and --redis-master go together"), alone);
  BOOST_TEST(mentions(error_of({"--redis-master=cturn"}), "go together"));
  for (const char* bad : {"s", "s:26379,", ",s:26379", "s:26379,t", "s:0"}) {
    const std::string error =
        error_of({std::string("--redis-sentinels=") + bad, "--redis-master=cturn"});
    BOOST_TEST(mentions(error, "--redis-sentinels must be HOST:PORT[,HOST:PORT...]"), error);
  }
}

BOOST_AUTO_TEST_CASE(print_config_and_help_show_the_sentinel_settings) {
  auto [printed, ignored] =
      parse_with({"--print-config", "--redis-sentinels=s:26379", "--redis-master=cturn"}, {});
  BOOST_REQUIRE(printed.has_value());
  BOOST_TEST(mentions(printed->text, "redis-sentinels"), printed->text);
  BOOST_TEST(mentions(printed->text, "flag --redis-master"), printed->text);
  auto [help, unused] = parse_with({"--help"}, {});
  BOOST_REQUIRE(help.has_value());
  BOOST_TEST(mentions(help->text, "--redis-sentinels"));
  BOOST_TEST(mentions(help->text, "--redis-master"));
}

BOOST_AUTO_TEST_SUITE_END()
