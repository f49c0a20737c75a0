#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cluster/publish_batch.hpp"

using cturn::publish_batch;

BOOST_AUTO_TEST_SUITE(publish_batch_suite)

BOOST_AUTO_TEST_CASE(a_call_holds_the_messages_in_order_four_arguments_each) {
  publish_batch batch;
  BOOST_TEST(batch.empty());
  batch.add("alice", "lobby", "M-1", std::nullopt);
  batch.add("bob", "lobby", "M-2", std::string("alice"));
  BOOST_TEST(batch.size() == 2U);
  const std::vector<std::string> expected{"EVALSHA", "SHA", "0",   "node-7", "alice", "lobby",
                                          "M-1",     "",    "bob", "lobby",  "M-2",   "alice"};
  BOOST_TEST(batch.take_call("SHA", "node-7") == expected, boost::test_tools::per_element());
  BOOST_TEST(batch.empty());
  BOOST_TEST(batch.size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_taken_batch_starts_afresh) {
  publish_batch batch;
  batch.add("alice", "lobby", "M-1", std::nullopt);
  (void)batch.take_call("SHA", "n");
  batch.add("carol", "den", "M-3", std::nullopt);
  const std::vector<std::string> expected{"EVALSHA", "SHA", "0", "n", "carol", "den", "M-3", ""};
  BOOST_TEST(batch.take_call("SHA", "n") == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(full_at_the_message_count) {
  publish_batch batch;
  for (std::size_t i = 0; i + 1 < publish_batch::max_messages; ++i)
    batch.add("alice", "lobby", "M", std::nullopt);
  BOOST_TEST(!batch.full());
  batch.add("alice", "lobby", "M", std::nullopt);
  BOOST_TEST(batch.full());
}

BOOST_AUTO_TEST_CASE(full_at_the_byte_count) {
  publish_batch batch;
  const std::string big(publish_batch::max_bytes / 2, 'x');
  batch.add("alice", "lobby", big, std::nullopt);
  BOOST_TEST(!batch.full());
  batch.add("alice", "lobby", big, std::nullopt);
  BOOST_TEST(batch.full());
  BOOST_TEST(batch.size() == 2U);
}

BOOST_AUTO_TEST_SUITE_END()
