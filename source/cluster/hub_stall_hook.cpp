#include "cluster/hub_stall_hook.hpp"

#ifdef CTURN_TEST_HOOKS
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "log.hpp"
#endif

namespace cturn {

#ifdef CTURN_TEST_HOOKS
namespace {

using hub_strand = boost::asio::strand<boost::asio::io_context::executor_type>;

void look_for_request(const std::shared_ptr<boost::asio::steady_timer>& timer, std::string path) {
  timer->expires_after(std::chrono::milliseconds(100));
  timer->async_wait([timer, path = std::move(path)](const boost::system::error_code& error) {
    if (error)
      return;
    std::ifstream request(path);
    std::uint64_t milliseconds = 0;
    if (request >> milliseconds) {
      request.close();
      std::remove(path.c_str());
      log_event(log_level::warn, "debug-stall-hub", {{"ms", milliseconds}});
      // Blocks the strand, as one long turn of fan-out does.
      std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
      log_event(log_level::warn, "debug-stall-hub-end");
    }
    look_for_request(timer, path);
  });
}

}  // namespace

void arm_hub_stall_hook(const hub_strand& hub) {
  const char* path = std::getenv("CTURN_DEBUG_STALL_HUB_FILE");
  if (path == nullptr || *path == '\0')
    return;
  log_event(log_level::warn, "debug-stall-hub-armed", {{"file", path}});
  look_for_request(std::make_shared<boost::asio::steady_timer>(hub), path);
}
#else
void arm_hub_stall_hook(const boost::asio::strand<boost::asio::io_context::executor_type>&) {}
#endif

}  // namespace cturn
