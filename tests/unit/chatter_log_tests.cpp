#include <boost/test/unit_test.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "log.hpp"
#include "net/chatter_log.hpp"

using cturn::chatter_log;
using cturn::log_level;
using lines = std::vector<std::string>;

namespace {

// What the log would have written: "<level> <event> key=value ...".
lines written;

void record(log_level level, std::string_view event,
            std::span<const cturn::log_field> fields) noexcept {
  std::string line = level == log_level::debug  ? "debug "
                     : level == log_level::info ? "info "
                                                : "warn ";
  line.append(event);
  for (const cturn::log_field& field : fields)
    line.append(" ").append(field.key).append("=").append(field.value);
  written.push_back(std::move(line));
}

// A connection that connected, was welcomed, and has not shown more yet.
struct welcomed {
  welcomed() {
    written.clear();
    log.arrive("connect", {{"id", 7}, {"peer", "10.0.0.1:5000"}});
    log.arrive("username", {{"id", 7}, {"user", "probe"}}, true);
  }
  chatter_log log{false, &record};
};

const lines arrival_at_info{"info connect id=7 peer=10.0.0.1:5000",
                            "info username id=7 user=probe"};

}  // namespace

BOOST_AUTO_TEST_SUITE(chatter_log_suite)

BOOST_AUTO_TEST_CASE(arrival_lines_are_held_until_the_connection_shows_what_it_is) {
  const welcomed session;
  BOOST_TEST(written.empty());
}

BOOST_AUTO_TEST_CASE(a_welcomed_connection_that_the_client_closes_is_a_probe_logged_at_debug) {
  welcomed probe;
  BOOST_TEST(probe.log.end(true));
  probe.log.log(log_level::info, "disconnect", {{"id", 7}, {"user", "probe"}, {"reason", "eof"}});
  BOOST_TEST(
      written == (lines{"debug connect id=7 peer=10.0.0.1:5000", "debug username id=7 user=probe",
                        "debug disconnect id=7 user=probe reason=eof"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(settling_logs_the_held_lines_at_info_in_order_then_later_ones_at_once) {
  welcomed session;
  session.log.settle();
  BOOST_TEST(written == arrival_at_info, boost::test_tools::per_element());
  session.log.arrive("tls", {{"id", 7}});
  BOOST_TEST(written.back() == "info tls id=7");
  BOOST_TEST(!session.log.end(true));  // settled: never a probe afterwards
  session.log.log(log_level::info, "disconnect", {{"id", 7}});
  BOOST_TEST(written.back() == "info disconnect id=7");
  BOOST_TEST(written.size() == 4U);
}

BOOST_AUTO_TEST_CASE(any_other_line_settles_first_so_the_order_stays) {
  for (const char* event : {"resume", "slow-consumer", "disconnect", "turned-away"}) {
    welcomed session;
    session.log.log(log_level::warn, event, {{"id", 7}});
    lines expected = arrival_at_info;
    expected.push_back(std::string("warn ") + event + " id=7");
    BOOST_TEST(written == expected, boost::test_tools::per_element());
    BOOST_TEST(!session.log.end(true));
  }
}

BOOST_AUTO_TEST_CASE(a_close_by_the_server_or_an_error_is_no_probe) {
  welcomed session;
  BOOST_TEST(!session.log.end(false));
  BOOST_TEST(written == arrival_at_info, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(without_a_welcome_a_closed_connection_is_no_probe) {
  // A refused username, or nothing at all: its close is a session's.
  written.clear();
  chatter_log log(false, &record);
  log.arrive("connect", {{"id", 8}});
  BOOST_TEST(!log.end(true));
  BOOST_TEST(written == lines{"info connect id=8"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_proxy_health_check_logs_at_debug_at_once_and_keeps_warnings) {
  written.clear();
  chatter_log log(true, &record);
  log.arrive("connect", {{"id", 9}});
  log.arrive("username", {{"id", 9}}, true);
  log.log(log_level::info, "disconnect", {{"id", 9}});
  log.log(log_level::warn, "slow-consumer", {{"id", 9}});
  BOOST_TEST(!log.end(true));  // counted as a proxy's check, not as a probe
  BOOST_TEST(written == (lines{"debug connect id=9", "debug username id=9", "debug disconnect id=9",
                               "warn slow-consumer id=9"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_probe_is_decided_once) {
  welcomed probe;
  BOOST_TEST(probe.log.end(true));
  BOOST_TEST(!probe.log.end(true));
  probe.log.settle();  // too late to change its mind
  probe.log.log(log_level::info, "disconnect", {{"id", 7}});
  BOOST_TEST(written.back() == "debug disconnect id=7");
}

BOOST_AUTO_TEST_SUITE_END()
