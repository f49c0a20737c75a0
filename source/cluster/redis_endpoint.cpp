#include "cluster/redis_endpoint.hpp"

#include <charconv>
#include <utility>

#include "cluster/redis_connection.hpp"
#include "log.hpp"

namespace cturn {

std::string redis_address::text() const {
  // A bracketed IPv6 host keeps its port readable: [::1]:6379.
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<redis_address> master_from_sentinel(const redis_reply& answer) {
  if (answer.type != redis_reply::kind::array || answer.elements.size() != 2)
    return std::nullopt;
  const std::string& host = answer.elements[0].text;
  const std::string& port_text = answer.elements[1].text;
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535)
    return std::nullopt;
  return redis_address{host, static_cast<std::uint16_t>(port)};
}

bool is_master_role(const redis_reply& role) {
  return role_name(role) == "master";
}

std::string role_name(const redis_reply& role) {
  if (role.type != redis_reply::kind::array || role.elements.empty())
    return role.is_error() ? role.text : "unknown";
  return role.elements[0].text;
}

redis_endpoint::redis_endpoint(strand on, const server_config& config,
                               std::chrono::milliseconds timeout)
    : strand_(std::move(on)),
      master_name_(config.redis_master),
      password_(config.redis_password),
      timeout_(timeout) {
  if (!config.redis_host.empty())
    direct_ = redis_address{config.redis_host, config.redis_port};
  for (const auto& [host, port] : config.redis_sentinels)
    sentinels_.push_back({host, port});
}

std::string redis_endpoint::describe() const {
  if (direct_)
    return direct_->text();
  std::string text = "sentinels:";
  for (const redis_address& sentinel : sentinels_)
    text += (text.back() == ':' ? "" : ",") + sentinel.text();
  return text + "/" + master_name_;
}

boost::asio::awaitable<std::optional<redis_address>> redis_endpoint::find() {
  if (direct_)
    co_return direct_;
  for (std::size_t asked = 0; asked < sentinels_.size(); ++asked) {
    const std::size_t index = (next_ + asked) % sentinels_.size();
    const redis_address& sentinel = sentinels_[index];
    // A Sentinel has a password of its own (`requirepass` in its config),
    // if any; Redis's is not sent to it: see docs/cluster.md.
    redis_connection link(strand_);
    if (!co_await link.connect(sentinel.host, sentinel.port, {}, timeout_)) {
      log_event(log_level::warn, "sentinel-unreachable", {{"sentinel", sentinel.text()}});
      continue;
    }
    std::vector<std::string> ask{"SENTINEL", "get-master-addr-by-name", master_name_};
    const redis_reply answer = co_await link.call(std::move(ask));
    link.close();
    if (auto master = master_from_sentinel(answer)) {
      next_ = index;
      co_return master;
    }
    log_event(log_level::warn, "sentinel-no-master",
              {{"sentinel", sentinel.text()},
               {"master", master_name_},
               {"answer", answer.is_error() ? answer.text : "none"}});
  }
  co_return std::nullopt;
}

}  // namespace cturn
