#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "config.hpp"
#include "hub/hub_port.hpp"

namespace cturn {

// The room hub of one node on its own, or a node of a cluster over Redis
// when the configuration names one: the one place that knows both exist.
std::unique_ptr<hub_port> make_hub(boost::asio::io_context& io, const server_config& config);

}  // namespace cturn
