#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace cturn {

// Counts the live sessions of each client source (see client_source) and
// refuses one more past the cap, so that a single address cannot take every
// slot of --max-connections. Slots are given back from any session's thread,
// hence the mutex; it is held only for a map lookup.
class source_limiter : public std::enable_shared_from_this<source_limiter> {
 public:
  // 0: no cap.
  explicit source_limiter(std::size_t cap) : cap_(cap) {}

  // One session's place in its source's count, given back when destroyed.
  class slot {
   public:
    slot() = default;  // counts nothing: the cap is off
    slot(std::shared_ptr<source_limiter> owner, std::string source)
        : owner_(std::move(owner)), source_(std::move(source)) {}
    slot(slot&&) noexcept = default;
    slot& operator=(slot&&) = delete;
    ~slot() {
      if (owner_)
        owner_->release(source_);
    }

   private:
    std::shared_ptr<source_limiter> owner_;
    std::string source_;
  };

  // A slot for `source`, or nothing when it already holds `cap` of them.
  std::optional<slot> try_acquire(const std::string& source) {
    if (cap_ == 0)
      return slot();
    const std::lock_guard lock(mutex_);
    std::size_t& held = held_[source];
    if (held >= cap_)
      return std::nullopt;
    ++held;
    return std::optional<slot>(std::in_place, shared_from_this(), source);
  }

  std::size_t cap() const { return cap_; }

  // Sources holding at least one slot (an idle source takes no memory).
  std::size_t sources() {
    const std::lock_guard lock(mutex_);
    return held_.size();
  }

 private:
  void release(const std::string& source) noexcept {
    const std::lock_guard lock(mutex_);
    const auto found = held_.find(source);
    if (found != held_.end() && --found->second == 0)
      held_.erase(found);
  }

  const std::size_t cap_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> held_;
};

}  // namespace cturn
