#define BOOST_TEST_MODULE cturn
#include <boost/test/unit_test.hpp>

#include "log.hpp"

namespace {

// The hub logs every event; the tests check frames, not log lines.
struct quiet_logs {
  quiet_logs() { cturn::set_log_level(cturn::log_level::off); }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(quiet_logs);
