#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "hub/participant.hpp"

namespace cturn::testing {

// Everything the hub delivered, in order, across all participants sharing it.
struct journal_entry {
  std::uint64_t id;
  std::string bytes;
};
using journal = std::vector<journal_entry>;

// A participant that records what the hub hands it instead of writing to a socket.
class fake_participant final : public participant {
 public:
  explicit fake_participant(std::uint64_t id, journal* shared = nullptr)
      : id_(id), journal_(shared) {}

  void deliver(const frame& bytes) override {
    if (released)
      ++deliveries_after_release;
    if (deliveries_throw)
      throw std::bad_alloc();
    frames.emplace_back(bytes.text());
    if (journal_ != nullptr)
      journal_->push_back({id_, std::string(bytes.text())});
  }
  void close_after_flush() override { ++close_requests; }
  void registered() noexcept override { ++registrations; }
  std::uint64_t connection_id() const override { return id_; }

  // The frames received since the last call.
  std::vector<std::string> take() { return std::exchange(frames, {}); }

  std::vector<std::string> frames;
  int close_requests = 0;
  int registrations = 0;
  // deliver() fails as it would on a full heap.
  bool deliveries_throw = false;
  // Set once the hub has let this client go, when its session would be freed:
  // from then on the hub must not reach it.
  bool released = false;
  int deliveries_after_release = 0;

 private:
  std::uint64_t id_;
  journal* journal_;
};

}  // namespace cturn::testing
