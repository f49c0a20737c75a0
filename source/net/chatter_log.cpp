#include "net/chatter_log.hpp"

#include <new>
#include <utility>

namespace cturn {

chatter_log::chatter_log(bool health_check, sink out)
    : out_(out), verdict_(health_check ? verdict::health_check : verdict::undecided) {}

void chatter_log::arrive(std::string_view event, std::initializer_list<log_field> fields,
                         bool welcome) noexcept {
  const std::lock_guard lock(mutex_);
  if (verdict_ == verdict::undecided) {
    try {
      held_.push_back({event, std::vector<log_field>(fields)});
      welcomed_ = welcomed_ || welcome;
      return;
    } catch (const std::bad_alloc&) {
      // No memory to hold the line: then it is logged as a session's.
      release(log_level::info, verdict::session);
    }
  }
  out_(level_of(log_level::info), event, {fields.begin(), fields.size()});
}

void chatter_log::settle() noexcept {
  const std::lock_guard lock(mutex_);
  if (verdict_ == verdict::undecided)
    release(log_level::info, verdict::session);
}

void chatter_log::log(log_level level, std::string_view event,
                      std::initializer_list<log_field> fields) noexcept {
  const std::lock_guard lock(mutex_);
  if (verdict_ == verdict::undecided)
    release(log_level::info, verdict::session);
  out_(level_of(level), event, {fields.begin(), fields.size()});
}

bool chatter_log::end(bool by_client) noexcept {
  const std::lock_guard lock(mutex_);
  if (verdict_ != verdict::undecided)
    return false;
  const bool probe = by_client && welcomed_;
  release(probe ? log_level::debug : log_level::info,
          probe ? verdict::health_check : verdict::session);
  return probe;
}

void chatter_log::release(log_level level, verdict decided) noexcept {
  verdict_ = decided;
  for (const held_line& line : held_)
    out_(level, line.event, line.fields);
  std::vector<held_line>().swap(held_);
}

log_level chatter_log::level_of(log_level level) const noexcept {
  return verdict_ == verdict::health_check && level == log_level::info ? log_level::debug : level;
}

}  // namespace cturn
