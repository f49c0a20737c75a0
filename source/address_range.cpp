#include "address_range.hpp"

#include <algorithm>
#include <charconv>

namespace cturn {
namespace {

namespace ip = boost::asio::ip;

ip::address unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  return address;
}

// Whether the first `bits` bits of `a` and `b` (byte arrays of one size) agree.
template <typename Bytes>
bool same_prefix(const Bytes& a, const Bytes& b, unsigned bits) {
  for (std::size_t i = 0; bits > 0; ++i) {
    const unsigned taken = std::min(bits, 8u);
    const auto mask = static_cast<unsigned char>(0xFF00u >> taken);
    if ((a[i] & mask) != (b[i] & mask))
      return false;
    bits -= taken;
  }
  return true;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  return text;
}

tl::expected<address_range, std::string> parse_range(std::string_view text) {
  const auto bad = [&] {
    return tl::unexpected("not an address or CIDR block: " + std::string(text));
  };
  const auto slash = text.find('/');
  boost::system::error_code error;
  const ip::address network = unmapped(ip::make_address(std::string(text.substr(0, slash)), error));
  if (error)
    return bad();
  const unsigned widest = network.is_v4() ? 32 : 128;
  unsigned bits = widest;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, parse_error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || parse_error != std::errc() || end != digits.data() + digits.size() ||
        bits > widest)
      return bad();
  }
  return address_range(network, bits);
}

}  // namespace

address_range::address_range(const ip::address& network, unsigned prefix_bits)
    : network_(unmapped(network)), prefix_bits_(prefix_bits) {}

bool address_range::contains(const ip::address& address) const {
  const ip::address candidate = unmapped(address);
  if (candidate.is_v4() != network_.is_v4())
    return false;
  if (candidate.is_v4())
    return same_prefix(candidate.to_v4().to_bytes(), network_.to_v4().to_bytes(), prefix_bits_);
  return same_prefix(candidate.to_v6().to_bytes(), network_.to_v6().to_bytes(), prefix_bits_);
}

std::string address_range::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_bits_);
}

tl::expected<std::vector<address_range>, std::string> parse_address_ranges(std::string_view text) {
  std::vector<address_range> ranges;
  if (trimmed(text).empty())
    return ranges;
  for (;;) {
    const auto comma = text.find(',');
    auto range = parse_range(trimmed(text.substr(0, comma)));
    if (!range)
      return tl::unexpected(range.error());
    ranges.push_back(*range);
    if (comma == std::string_view::npos)
      return ranges;
    text.remove_prefix(comma + 1);
  }
}

bool any_contains(const std::vector<address_range>& ranges, const ip::address& address) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const address_range& range) { return range.contains(address); });
}

}  // namespace cturn
