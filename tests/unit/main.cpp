#define BOOST_TEST_MODULE cturn
#include <boost/test/unit_test.hpp>
