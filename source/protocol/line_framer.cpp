#include "protocol/line_framer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

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
    : buffer_limit_(max_line_bytes == 0 ? std::numeric_limits<std::size_t>::max() / 2
                                        : max_line_bytes + 1) {}

std::span<char> line_framer::prepare(std::size_t wanted) {
  prepared_ = size_;
  last_wanted_ = wanted;
  const std::size_t limit_room = buffer_limit_ - std::min(buffer_limit_, prepared_ - consumed_);
  const std::size_t spare = buffer_.capacity - prepared_;
  const std::size_t room = std::min(std::max(wanted, spare), limit_room);
  reserve(prepared_ + room);
  return {buffer_.bytes.get() + prepared_, room};
}

void line_framer::reserve(std::size_t needed) {
  if (needed <= buffer_.capacity)
    return;
  // Doubling keeps a line that arrives in many small reads linear to copy.
  const std::size_t capacity = std::max(needed, 2 * buffer_.capacity);
  storage grown{std::make_unique_for_overwrite<char[]>(capacity), capacity};
  if (size_ != 0)
    std::memcpy(grown.bytes.get(), buffer_.bytes.get(), size_);
  buffer_ = std::move(grown);
}

void line_framer::commit(std::size_t received) {
  size_ = prepared_ + std::min(received, buffer_.capacity - prepared_);
}

std::optional<std::string_view> line_framer::next_line() {
  for (;;) {
    const std::size_t from = std::max(scanned_, consumed_);
    const char* data = buffer_.bytes.get();
    const void* newline = from < size_ ? std::memchr(data + from, '\n', size_ - from) : nullptr;
    if (newline == nullptr) {
      scanned_ = size_;
      return std::nullopt;
    }
    const auto end = static_cast<std::size_t>(static_cast<const char*>(newline) - data);
    std::string_view line(data + consumed_, end - consumed_);
    consumed_ = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!is_blank(line))
      return line;
  }
}

bool line_framer::too_long() const {
  return size_ - consumed_ >= buffer_limit_;
}

void line_framer::compact() {
  if (consumed_ != 0 && consumed_ < size_)
    std::memmove(buffer_.bytes.get(), buffer_.bytes.get() + consumed_, size_ - consumed_);
  size_ -= consumed_;
  scanned_ -= std::min(scanned_, consumed_);
  consumed_ = 0;
  if (size_ == 0 && buffer_.capacity > std::max(kept_capacity, 2 * last_wanted_))
    buffer_ = storage{};
}

line_framer::storage line_framer::release() {
  size_ = consumed_ = scanned_ = prepared_ = 0;
  return std::exchange(buffer_, storage{});
}

void line_framer::adopt(storage spare) {
  size_ = consumed_ = scanned_ = prepared_ = 0;
  buffer_ = std::move(spare);
}

}  // namespace cturn
