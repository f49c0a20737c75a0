#include <boost/test/unit_test.hpp>

#include "cluster/redis_endpoint.hpp"

namespace {

cturn::redis_reply text(std::string value) {
  cturn::redis_reply reply;
  reply.type = cturn::redis_reply::kind::string;
  reply.text = std::move(value);
  return reply;
}

cturn::redis_reply array(std::vector<cturn::redis_reply> elements) {
  cturn::redis_reply reply;
  reply.type = cturn::redis_reply::kind::array;
  reply.elements = std::move(elements);
  return reply;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_endpoint)

BOOST_AUTO_TEST_CASE(a_sentinels_answer_names_the_master) {
  const auto master = cturn::master_from_sentinel(array({text("10.0.0.7"), text("6380")}));
  BOOST_REQUIRE(master.has_value());
  BOOST_TEST(master->host == "10.0.0.7");
  BOOST_TEST(master->port == 6380);
  BOOST_TEST(master->text() == "10.0.0.7:6380");
  BOOST_TEST((cturn::redis_address{"::1", 6379}.text() == "[::1]:6379"));
  // No master by that name (nil), an error, or an answer that is no address.
  BOOST_TEST(!cturn::master_from_sentinel(cturn::redis_reply{}).has_value());
  BOOST_TEST(!cturn::master_from_sentinel(cturn::redis_reply::error("ERR no")).has_value());
  BOOST_TEST(!cturn::master_from_sentinel(array({text("h"), text("0")})).has_value());
  BOOST_TEST(!cturn::master_from_sentinel(array({text("h"), text("65536")})).has_value());
  BOOST_TEST(!cturn::master_from_sentinel(array({text("h"), text("63a")})).has_value());
  BOOST_TEST(!cturn::master_from_sentinel(array({text(""), text("6379")})).has_value());
  BOOST_TEST(!cturn::master_from_sentinel(array({text("h")})).has_value());
}

BOOST_AUTO_TEST_CASE(only_a_master_role_is_a_master) {
  cturn::redis_reply offset;
  offset.type = cturn::redis_reply::kind::integer;
  BOOST_TEST(cturn::is_master_role(array({text("master"), offset, array({})})));
  BOOST_TEST(!cturn::is_master_role(array({text("slave"), text("10.0.0.7"), offset})));
  BOOST_TEST(cturn::role_name(array({text("slave")})) == "slave");
  BOOST_TEST(!cturn::is_master_role(array({text("sentinel"), array({})})));
  BOOST_TEST(!cturn::is_master_role(cturn::redis_reply::error("ERR unknown command")));
  BOOST_TEST(!cturn::is_master_role(array({})));
}

BOOST_AUTO_TEST_CASE(errors_of_a_server_that_is_no_master_mean_redis_is_lost) {
  for (const char* lost :
       {"READONLY You can't write against a read only replica.",
        "READONLY You can't write against a read only replica. script: 64ac, on @user_script:1.",
        "LOADING Redis is loading the dataset in memory",
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "NOREPLICAS Not enough good replicas to write.", "READONLY"})
    BOOST_TEST(cturn::redis_reply::error(lost).means_master_lost(), lost);
  for (const char* other : {"ERR wrong number of arguments", "NOSCRIPT No matching script",
                            "READONLYX", "ERR READONLY", "lease lost"})
    BOOST_TEST(!cturn::redis_reply::error(other).means_master_lost(), other);
  BOOST_TEST(!text("READONLY").means_master_lost());
}

BOOST_AUTO_TEST_SUITE_END()
