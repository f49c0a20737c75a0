#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memory_limit.hpp"
#include "net/output_budget.hpp"
#include "protocol/frame.hpp"
#include "protocol/frame_memory.hpp"

using cturn::choose_to_shed;
using cturn::queued_output;
using ids = std::vector<std::uint64_t>;

BOOST_AUTO_TEST_SUITE(output_budget_suite)

BOOST_AUTO_TEST_CASE(nothing_is_shed_within_the_budget) {
  BOOST_TEST(choose_to_shed(100, 100, {{1, 90}, {2, 10}}) == ids{},
             boost::test_tools::per_element());
  BOOST_TEST(choose_to_shed(50, 100, {{1, 50}}).empty());
}

BOOST_AUTO_TEST_CASE(no_budget_sheds_nothing) {
  BOOST_TEST(choose_to_shed(1'000'000, 0, {{1, 1'000'000}}).empty());
}

BOOST_AUTO_TEST_CASE(the_biggest_queue_goes_first) {
  BOOST_TEST(choose_to_shed(120, 100, {{1, 10}, {2, 70}, {3, 40}}) == ids{2},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(as_many_as_cover_the_excess) {
  // Excess 100: 60 + 30 is not enough, 60 + 30 + 20 is.
  BOOST_TEST(choose_to_shed(200, 100, {{1, 20}, {2, 60}, {3, 30}, {4, 5}}) == (ids{2, 3, 1}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_queues_are_never_shed) {
  // Shared frames can hold memory that no queue's shedding frees at once:
  // connections with nothing queued are not cut for it.
  BOOST_TEST(choose_to_shed(500, 100, {{1, 0}, {2, 50}, {3, 0}}) == ids{2},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ties_go_to_the_newest_connection) {
  BOOST_TEST(choose_to_shed(110, 100, {{4, 30}, {9, 30}, {2, 30}}) == ids{9},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_frame_counts_its_bytes_while_it_lives) {
  const std::size_t before = cturn::frame_memory::alive();
  {
    const cturn::frame big(std::string(100'000, 'x'));
    const std::vector<cturn::frame> queued(3, big);  // more holders, no more bytes
    BOOST_TEST(queued.front().shares_bytes_with(big));
    BOOST_TEST(cturn::frame_memory::alive() >= before + 100'000);
    BOOST_TEST(cturn::frame_memory::alive() < before + 100'000 + 256);
  }
  BOOST_TEST(cturn::frame_memory::alive() == before);
}

BOOST_AUTO_TEST_CASE(cgroup_limits) {
  BOOST_TEST(cturn::parse_cgroup_limit("536870912\n").value_or(0) == 536870912u);
  BOOST_TEST(!cturn::parse_cgroup_limit("max\n").has_value());
  BOOST_TEST(!cturn::parse_cgroup_limit("").has_value());
  BOOST_TEST(!cturn::parse_cgroup_limit("12x").has_value());
}

BOOST_AUTO_TEST_CASE(the_default_is_a_quarter_of_the_usable_memory) {
  BOOST_TEST(cturn::usable_memory_bytes() > 0u);
  BOOST_TEST(cturn::default_output_budget() == cturn::usable_memory_bytes() / 4);
}

BOOST_AUTO_TEST_SUITE_END()
