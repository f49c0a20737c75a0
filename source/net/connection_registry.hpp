#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

namespace cturn {

// Counts the live sessions. The connection cap is checked against this count,
// and a shutdown is over when it reaches zero: not when the hub has no
// clients, since a connection turned away during shutdown never reaches the
// hub, yet is flushed and closed like every other.
class connection_registry : public std::enable_shared_from_this<connection_registry> {
 public:
  // One session's place in the count, given back when destroyed.
  class slot {
   public:
    explicit slot(std::shared_ptr<connection_registry> owner) : owner_(std::move(owner)) {}
    slot(slot&&) noexcept = default;
    slot& operator=(slot&&) = delete;
    ~slot() {
      if (owner_)
        owner_->release();
    }

   private:
    std::shared_ptr<connection_registry> owner_;
  };

  slot acquire() {
    count_.fetch_add(1, std::memory_order_relaxed);
    return slot(shared_from_this());
  }

  std::size_t count() const { return count_.load(std::memory_order_relaxed); }

  // Calls `callback` once the count is zero: at once if it is, else from the
  // thread that gives back the last slot (it must only post work). Replaces
  // any earlier callback; an empty one cancels.
  void when_empty(std::function<void()> callback) {
    const std::lock_guard lock(mutex_);
    on_empty_ = std::move(callback);
    if (on_empty_ && count_.load(std::memory_order_acquire) == 0)
      on_empty_();
  }

 private:
  void release() noexcept {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) != 1)
      return;
    const std::lock_guard lock(mutex_);
    if (on_empty_ && count_.load(std::memory_order_acquire) == 0)
      on_empty_();
  }

  std::atomic<std::size_t> count_{0};
  std::mutex mutex_;
  std::function<void()> on_empty_;
};

}  // namespace cturn
