#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cturn {

// Cuts a byte stream into protocol lines, with no I/O: the session reads into
// prepare()'s space and commit()s what arrived; the fuzzer feeds it directly.
//
// A line ends at '\n'; one '\r' before it is dropped; lines that are empty or
// only white space are skipped. A line may hold max_line_bytes bytes plus its
// '\n' (so "...\r\n" counts the '\r'); an unfinished line that reaches
// max_line_bytes + 1 bytes is too long, known before its '\n' ever arrives.
class line_framer {
 public:
  // The bytes a framer reads into. Handed out and back in whole, so that an
  // idle connection can give its buffer to a pool instead of keeping it.
  struct storage {
    std::unique_ptr<char[]> bytes;
    std::size_t capacity = 0;
  };

  // 0: no limit.
  explicit line_framer(std::size_t max_line_bytes);

  // Space for the next read: at least `wanted` bytes where the limit allows,
  // or whatever the buffer already has spare. Never empty unless too_long().
  std::span<char> prepare(std::size_t wanted);
  // The first `received` bytes of the last prepare() now hold data.
  void commit(std::size_t received);

  // The next complete line. The view stays valid until compact().
  std::optional<std::string_view> next_line();

  // The unfinished line has reached the limit without its '\n'. Only
  // meaningful once next_line() has returned every complete line.
  bool too_long() const;

  // Forgets the lines already returned; gives back a buffer that grew for one
  // large line once nothing is left in it (not one that merely serves large reads).
  void compact();

  // Bytes held: the unfinished line, and lines not yet compacted away.
  std::size_t buffered() const { return size_; }

  // Only while buffered() is 0: gives the buffer away (the framer then holds
  // none until prepare() or adopt()), or takes one that is not in use.
  storage release();
  void adopt(storage spare);

 private:
  void reserve(std::size_t needed);

  std::size_t buffer_limit_;  // max_line_bytes + 1, or no limit
  // Not a std::string: prepare() would zero every byte it offers, on every
  // read, only for the read to overwrite them.
  storage buffer_;
  std::size_t size_ = 0;      // bytes of buffer_ holding data
  std::size_t consumed_ = 0;  // start of the first line not returned yet
  std::size_t scanned_ = 0;   // no '\n' before this offset past consumed_
  std::size_t prepared_ = 0;  // where the last prepare() began
  std::size_t last_wanted_ = 0;
};

}  // namespace cturn
