#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace cturn {

// A test's way to make the hub's strand busy for seconds, as a long burst of
// fan-out would, at a moment the test chooses: tests/cluster/
// test_cluster_lease_strand.py. Only in builds configured with
// CTURN_TEST_HOOKS (the dev, asan and tsan presets; never the release,
// server or bench ones); elsewhere this does nothing.
//
// With CTURN_DEBUG_STALL_HUB_FILE=PATH in the environment, the strand looks
// for PATH every 100 ms; once it is there, it reads a number of
// milliseconds from it, removes it and blocks the strand that long (logs
// `debug-stall-hub ms=N` before, `debug-stall-hub-end` after).
void arm_hub_stall_hook(const boost::asio::strand<boost::asio::io_context::executor_type>& hub);

}  // namespace cturn
