#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <string_view>
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
    raw_frames.emplace_back(bytes.text());
    std::string text = without_resume_token(bytes.text());
    frames.push_back(text);
    if (journal_ != nullptr)
      journal_->push_back({id_, std::move(text)});
  }
  void close_after_flush() override { ++close_requests; }
  void registered() noexcept override { ++registrations; }
  std::uint64_t connection_id() const override { return id_; }
  void log_chatter(chatter_event event, std::initializer_list<log_field>) noexcept override {
    chatter.push_back(event);
  }

  // The frames received since the last call.
  std::vector<std::string> take() { return std::exchange(frames, {}); }

  // Frames as delivered, except that a welcome's resume token is cut out
  // (into `tokens`): the token is random, the rest is what tests compare.
  std::vector<std::string> frames;
  // Every frame exactly as delivered.
  std::vector<std::string> raw_frames;
  // The resume tokens of the welcomes, in order.
  std::vector<std::string> tokens;
  int close_requests = 0;
  int registrations = 0;
  // The lines the hub logged about this client, through it.
  std::vector<chatter_event> chatter;
  // deliver() fails as it would on a full heap.
  bool deliveries_throw = false;
  // Set once the hub has let this client go, when its session would be freed:
  // from then on the hub must not reach it.
  bool released = false;
  int deliveries_after_release = 0;

 private:
  // `..."content":"...","resume":"<token>"}}\n` → `..."content":"..."}}\n`.
  std::string without_resume_token(std::string_view text) {
    constexpr std::string_view field = R"(,"resume":")";
    constexpr std::string_view tail = "\"}}\n";
    const std::size_t at = text.rfind(field);
    if (!text.starts_with(R"({"type":"welcome")") || at == std::string_view::npos ||
        !text.ends_with(tail))
      return std::string(text);
    const std::size_t start = at + field.size();
    tokens.emplace_back(text.substr(start, text.size() - tail.size() - start));
    return std::string(text.substr(0, at)) + "}}\n";
  }

  std::uint64_t id_;
  journal* journal_;
};

}  // namespace cturn::testing
