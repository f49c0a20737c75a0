#include <boost/test/unit_test.hpp>
#include <memory>
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
  auto registered = std::make_unique<connection_registry::slot>(registry->acquire());
  auto turned_away = std::make_unique<connection_registry::slot>(registry->acquire());
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
  auto slot = std::make_unique<connection_registry::slot>(registry->acquire());
  int fired = 0;
  registry->when_empty([&] { ++fired; });
  registry->when_empty(nullptr);
  slot.reset();
  BOOST_TEST(fired == 0);
}

BOOST_AUTO_TEST_CASE(a_slot_keeps_its_registry_alive) {
  // A session destroyed after the server still finds the registry it counts in.
  std::weak_ptr<connection_registry> watch;
  auto slot = [&watch] {
    const auto registry = std::make_shared<connection_registry>();
    watch = registry;
    return std::make_unique<connection_registry::slot>(registry->acquire());
  }();
  BOOST_TEST(!watch.expired());
  slot.reset();
  BOOST_TEST(watch.expired());
}

BOOST_AUTO_TEST_SUITE_END()
