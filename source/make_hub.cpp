#include "make_hub.hpp"

#include "cluster/cluster_hub.hpp"
#include "net/hub_service.hpp"

namespace cturn {

std::unique_ptr<hub_port> make_hub(boost::asio::io_context& io, const server_config& config) {
  if (!config.clustered())
    return std::make_unique<hub_service>(io.get_executor());
  auto hub = std::make_unique<cluster_hub>(io, config);
  hub->start();
  return hub;
}

}  // namespace cturn
