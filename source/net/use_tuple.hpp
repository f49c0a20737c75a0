#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cturn {

// Completion token for co_await that yields (error_code, result...) instead of
// throwing: a failed read or a cancelled timer is an outcome, not an exception.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace cturn
