#include "net/output_budget.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <tuple>

#include "log.hpp"
#include "protocol/frame_memory.hpp"

namespace cturn {

namespace asio = boost::asio;

std::vector<std::uint64_t> choose_to_shed(std::size_t alive, std::size_t limit,
                                          std::vector<queued_output> queues) {
  std::vector<std::uint64_t> chosen;
  if (limit == 0 || alive <= limit)
    return chosen;
  // Among equal queues the newest connection (the higher id) goes first.
  std::sort(queues.begin(), queues.end(), [](const queued_output& a, const queued_output& b) {
    return std::tie(b.bytes, b.id) < std::tie(a.bytes, a.id);
  });
  const std::size_t excess = alive - limit;
  std::size_t covered = 0;
  for (const queued_output& queue : queues) {
    if (covered >= excess || queue.bytes == 0)
      break;
    chosen.push_back(queue.id);
    covered += queue.bytes;
  }
  return chosen;
}

output_budget::output_budget(asio::io_context& io, std::size_t limit_bytes)
    : strand_(asio::make_strand(io)), timer_(strand_), limit_(limit_bytes) {}

void output_budget::start() {
  if (limit_ != 0)
    asio::post(strand_, [this] { schedule(); });
}

void output_budget::stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void output_budget::enroll(std::uint64_t id, std::weak_ptr<output_holder> holder) {
  if (limit_ == 0)
    return;
  const std::lock_guard lock(mutex_);
  holders_.insert_or_assign(id, std::move(holder));
}

void output_budget::withdraw(std::uint64_t id) noexcept {
  if (limit_ == 0)
    return;
  const std::lock_guard lock(mutex_);
  holders_.erase(id);
}

void output_budget::schedule() {
  if (stopped_)
    return;
  timer_.expires_after(check_period);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopped_)
      return;
    check();
    schedule();
  });
}

void output_budget::check() {
  const std::size_t alive = frame_memory::alive();
  if (alive <= limit_)
    return;
  std::vector<queued_output> queues;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<output_holder>>> live;
  {
    const std::lock_guard lock(mutex_);
    queues.reserve(holders_.size());
    live.reserve(holders_.size());
    for (const auto& [id, weak] : holders_) {
      if (auto holder = weak.lock()) {
        queues.push_back({id, holder->queued_output_bytes()});
        live.emplace_back(id, std::move(holder));
      }
    }
  }
  const std::vector<std::uint64_t> chosen = choose_to_shed(alive, limit_, std::move(queues));
  if (chosen.empty())
    return;
  log_event(log_level::warn, "output-budget-exceeded",
            {{"held_bytes", alive}, {"budget_bytes", limit_}, {"shedding", chosen.size()}});
  for (const std::uint64_t id : chosen) {
    const auto found = std::find_if(live.begin(), live.end(),
                                    [id](const auto& entry) { return entry.first == id; });
    if (found != live.end())
      found->second->shed();
  }
}

}  // namespace cturn
