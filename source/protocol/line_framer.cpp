#include "protocol/line_framer.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace cturn {
namespace {

// An empty buffer larger than this, and than twice the reads asked for, is
// released: a connection that once sent a large line does not keep its buffer
// while idle, and a busy one does not reallocate on every read.
constexpr std::size_t kept_capacity = 4096;

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), is_ascii_space);
}

}  // namespace

line_framer::line_framer(std::size_t max_line_bytes)
    : buffer_limit_(max_line_bytes == 0 ? std::string().max_size() : max_line_bytes + 1) {}

std::span<char> line_framer::prepare(std::size_t wanted) {
  prepared_ = buffer_.size();
  last_wanted_ = wanted;
  const std::size_t limit_room = buffer_limit_ - std::min(buffer_limit_, prepared_ - consumed_);
  const std::size_t spare = buffer_.capacity() - prepared_;
  const std::size_t room = std::min(std::max(wanted, spare), limit_room);
  buffer_.resize(prepared_ + room);
  return {buffer_.data() + prepared_, room};
}

void line_framer::commit(std::size_t received) {
  buffer_.resize(prepared_ + std::min(received, buffer_.size() - prepared_));
}

std::optional<std::string_view> line_framer::next_line() {
  for (;;) {
    const std::size_t end = buffer_.find('\n', std::max(scanned_, consumed_));
    if (end == std::string::npos) {
      scanned_ = buffer_.size();
      return std::nullopt;
    }
    std::string_view line(buffer_.data() + consumed_, end - consumed_);
    consumed_ = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!is_blank(line))
      return line;
  }
}

bool line_framer::too_long() const {
  return buffer_.size() - consumed_ >= buffer_limit_;
}

void line_framer::compact() {
  buffer_.erase(0, consumed_);
  scanned_ -= std::min(scanned_, consumed_);
  consumed_ = 0;
  if (buffer_.empty() && buffer_.capacity() > std::max(kept_capacity, 2 * last_wanted_))
    std::string().swap(buffer_);
}

}  // namespace cturn
