#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/line_framer.hpp"

namespace {

using lines = std::vector<std::string>;

// Feeds `input` in reads of at most `read_size` bytes, as a socket would, and
// collects every line; stops at the first read that finds the line too long.
struct feeder {
  explicit feeder(std::size_t max_line_bytes) : framer(max_line_bytes) {}

  lines feed(std::string_view input, std::size_t read_size = 4096) {
    lines out;
    while (!input.empty() && !too_long) {
      const std::span<char> space = framer.prepare(read_size);
      BOOST_REQUIRE(!space.empty());
      const std::size_t n = std::min({space.size(), input.size(), read_size});
      std::memcpy(space.data(), input.data(), n);
      framer.commit(n);
      input.remove_prefix(n);
      while (const auto line = framer.next_line())
        out.emplace_back(*line);
      too_long = framer.too_long();
      framer.compact();
    }
    return out;
  }

  cturn::line_framer framer;
  bool too_long = false;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(line_framer)

BOOST_AUTO_TEST_CASE(splits_on_newline_and_keeps_the_unfinished_line) {
  feeder f(100);
  BOOST_TEST(f.feed("a\nbc\nde") == (lines{"a", "bc"}));
  BOOST_TEST(f.framer.buffered() == 2u);
  BOOST_TEST(f.feed("f\n") == lines{"def"});
  BOOST_TEST(f.framer.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(drops_one_carriage_return_before_the_newline) {
  feeder f(100);
  BOOST_TEST(f.feed("a\r\nb\r\r\nc\rd\n") == (lines{"a", "b\r", "c\rd"}));
}

BOOST_AUTO_TEST_CASE(skips_empty_and_blank_lines) {
  feeder f(100);
  BOOST_TEST(f.feed("\n\r\n \t\v\f\r\nx\n  y \n") == (lines{"x", "  y "}));
}

BOOST_AUTO_TEST_CASE(any_split_of_the_stream_gives_the_same_lines) {
  const std::string stream = "one\r\ntwo\n\n three \nfour\n";
  for (std::size_t read_size = 1; read_size <= stream.size(); ++read_size) {
    BOOST_TEST_CONTEXT("read size " << read_size) {
      feeder f(100);
      BOOST_TEST(f.feed(stream, read_size) == (lines{"one", "two", " three ", "four"}));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_line_of_exactly_the_limit_fits) {
  feeder f(8);
  BOOST_TEST(f.feed("12345678\n") == lines{"12345678"});
  BOOST_TEST(!f.too_long);
}

BOOST_AUTO_TEST_CASE(too_long_is_known_before_the_newline_arrives) {
  feeder f(8);
  BOOST_TEST(f.feed("12345678").empty());
  BOOST_TEST(!f.too_long);
  BOOST_TEST(f.feed("9").empty());  // limit + 1 bytes, still no newline
  BOOST_TEST(f.too_long);
  BOOST_TEST(f.framer.prepare(100).empty());
}

BOOST_AUTO_TEST_CASE(the_carriage_return_counts_toward_the_limit) {
  feeder f(8);
  f.feed("12345678\r\n");
  BOOST_TEST(f.too_long);
}

BOOST_AUTO_TEST_CASE(lines_before_a_too_long_one_are_delivered) {
  feeder f(4);
  BOOST_TEST(f.feed("ab\ncd\nefghij", 64) == (lines{"ab", "cd"}));
  BOOST_TEST(f.too_long);
}

BOOST_AUTO_TEST_CASE(reads_never_go_past_the_limit) {
  cturn::line_framer framer(10);
  BOOST_TEST(framer.prepare(4096).size() == 11u);  // the line and its '\n'
  framer.commit(4);
  BOOST_TEST(framer.prepare(4096).size() == 7u);
}

BOOST_AUTO_TEST_CASE(zero_means_no_limit) {
  feeder f(0);
  const std::string big(1 << 20, 'x');
  BOOST_TEST(f.feed(big + "\n", 65536) == lines{big});
  BOOST_TEST(!f.too_long);
}

BOOST_AUTO_TEST_CASE(a_buffer_that_serves_large_reads_is_kept) {
  feeder f(0);
  f.feed(std::string(100000, 'x') + "\n", 65536);
  BOOST_TEST(f.framer.buffered() == 0u);
  BOOST_TEST(f.framer.prepare(65536).size() >= 65536u);
}

BOOST_AUTO_TEST_CASE(a_short_read_leaves_no_stale_bytes) {
  cturn::line_framer framer(100);
  const std::span<char> space = framer.prepare(64);
  BOOST_REQUIRE(space.size() >= 2u);
  std::memcpy(space.data(), "a\n", 2);
  framer.commit(2);
  BOOST_TEST(framer.buffered() == 2u);
  const auto line = framer.next_line();
  BOOST_REQUIRE(line.has_value());
  BOOST_TEST(*line == "a");
  BOOST_TEST(!framer.next_line().has_value());
}

BOOST_AUTO_TEST_CASE(a_buffer_grown_for_one_large_line_is_released) {
  feeder f(0);
  f.feed(std::string(100000, 'x') + "\n", 1024);
  BOOST_TEST(f.framer.buffered() == 0u);
  // The buffer grew past what small reads need, and was given back.
  const std::span<char> space = f.framer.prepare(256);
  BOOST_TEST(space.size() < 4096u);
}

BOOST_AUTO_TEST_CASE(an_idle_framer_gives_its_buffer_away_and_takes_one_back) {
  feeder f(100);
  BOOST_TEST(f.feed("a\nb\n", 64) == (lines{"a", "b"}));
  cturn::line_framer::storage spare = f.framer.release();
  BOOST_TEST(spare.capacity >= 64u);
  BOOST_TEST(spare.bytes != nullptr);
  // Without a buffer it still works: it allocates on the next prepare().
  BOOST_TEST(f.feed("c\n", 64) == lines{"c"});

  // A buffer taken from elsewhere serves the next reads, bytes and all.
  char* const adopted = spare.bytes.get();
  const std::size_t adopted_capacity = spare.capacity;
  cturn::line_framer other(100);
  other.adopt(std::move(spare));
  const std::span<char> space = other.prepare(16);
  BOOST_TEST(static_cast<void*>(space.data()) == static_cast<void*>(adopted));
  BOOST_TEST(space.size() == adopted_capacity);
  std::memcpy(space.data(), "de\nf", 4);
  other.commit(4);
  BOOST_TEST(*other.next_line() == "de");
  BOOST_TEST(!other.next_line().has_value());
  other.compact();
  BOOST_TEST(other.buffered() == 1u);  // "f", waiting for its newline
}

BOOST_AUTO_TEST_SUITE_END()
