#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "net/connection_registry.hpp"

using cturn::connection_registry;

BOOST_AUTO_TEST_SUITE(connection_registry_suite)

BOOST_AUTO_TEST_CASE(counts_the_slots_held) {
  const auto registry = std::make_shared<connection_registry>();
  {
    const connection_registry::slot a = registry->acquire();
    const connection_registry::slot b = registry->acquire();
    BOOST_TEST(registry->count() == 2u);
  }
  BOOST_TEST(registry->count() == 0u);
}

BOOST_AUTO_TEST_CASE(empty_fires_when_the_last_slot_is_given_back) {
  // A slot the hub never heard of (a connection turned away during shutdown)
  // counts like any other.
  const auto registry = std::make_shared<connection_registry>();
  std::optional<connection_registry::slot> registered(registry->acquire());
  std::optional<connection_registry::slot> turned_away(registry->acquire());
  int fired = 0;
  registry->when_empty([&] { ++fired; });
  registered.reset();
  BOOST_TEST(fired == 0);
  turned_away.reset();
  BOOST_TEST(fired == 1);
}

BOOST_AUTO_TEST_CASE(empty_fires_at_once_when_nothing_is_held) {
  const auto registry = std::make_shared<connection_registry>();
  int fired = 0;
  registry->when_empty([&] { ++fired; });
  BOOST_TEST(fired == 1);
}

BOOST_AUTO_TEST_CASE(a_cancelled_callback_never_fires) {
  const auto registry = std::make_shared<connection_registry>();
  std::optional<connection_registry::slot> slot(registry->acquire());
  int fired = 0;
  registry->when_empty([&] { ++fired; });
  registry->when_empty(nullptr);
  slot.reset();
  BOOST_TEST(fired == 0);
}

BOOST_AUTO_TEST_CASE(slots_outlive_nothing_they_need) {
  // A session destroyed after the server keeps the registry alive itself.
  std::optional<connection_registry::slot> slot;
  {
    const auto registry = std::make_shared<connection_registry>();
    slot.emplace(registry->acquire());
  }
  slot.reset();
}

BOOST_AUTO_TEST_SUITE_END()
