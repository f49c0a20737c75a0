#include "net/proxy_header.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>

namespace cturn {
namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view v1_signature = "PROXY ";
constexpr std::array<unsigned char, 12> v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// Whether the first bytes of `input` agree with `signature` as far as both go.
template <typename Signature>
bool agrees_with(std::span<const char> input, const Signature& signature) {
  const std::size_t compared = std::min(input.size(), signature.size());
  for (std::size_t i = 0; i < compared; ++i) {
    if (static_cast<unsigned char>(input[i]) != static_cast<unsigned char>(signature[i]))
      return false;
  }
  return true;
}

// The next space-separated field of a v1 line; empty when there is none.
std::string_view next_field(std::string_view& rest) {
  const auto space = rest.find(' ');
  const std::string_view field = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return field;
}

// A v1 port: 1 to 5 decimal digits, no leading zero (as HAProxy writes it), at most 65535.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text.front() == '0'))
    return std::nullopt;
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// `PROXY TCP4|TCP6 <source> <destination> <source port> <destination port>`,
// or `PROXY UNKNOWN` followed by anything.
proxy_header_result parse_v1_line(std::string_view line, std::size_t length) {
  std::string_view rest = line.substr(v1_signature.size());
  const std::string_view protocol = next_field(rest);
  if (protocol == "UNKNOWN")
    return proxy_header{std::nullopt, length};
  if (protocol != "TCP4" && protocol != "TCP6")
    return proxy_header_invalid{"v1: unknown protocol"};
  const std::string source(next_field(rest));
  const std::string destination(next_field(rest));
  const auto source_port = parse_port(next_field(rest));
  const auto destination_port = parse_port(next_field(rest));
  if (!rest.empty() || !source_port || !destination_port)
    return proxy_header_invalid{"v1: malformed fields"};
  boost::system::error_code source_error;
  boost::system::error_code destination_error;
  ip::address client;
  if (protocol == "TCP4") {
    client = ip::make_address_v4(source, source_error);
    ip::make_address_v4(destination, destination_error);
  } else {
    client = ip::make_address_v6(source, source_error);
    ip::make_address_v6(destination, destination_error);
  }
  if (source_error || destination_error)
    return proxy_header_invalid{"v1: malformed address"};
  return proxy_header{ip::tcp::endpoint(client, *source_port), length};
}

proxy_header_result parse_v1(std::span<const char> input) {
  const std::string_view text(input.data(), std::min(input.size(), proxy_v1_max_bytes));
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) {
    if (text.size() >= proxy_v1_max_bytes)
      return proxy_header_invalid{"v1: no CRLF within 107 bytes"};
    return proxy_header_incomplete{};
  }
  if (newline == 0 || text[newline - 1] != '\r')
    return proxy_header_invalid{"v1: line not ended by CRLF"};
  return parse_v1_line(text.substr(0, newline - 1), newline + 1);
}

std::uint16_t read_u16(std::span<const char> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[at]) << 8) |
                                    static_cast<unsigned char>(bytes[at + 1]));
}

template <std::size_t N>
std::array<unsigned char, N> read_bytes(std::span<const char> bytes, std::size_t at) {
  std::array<unsigned char, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<unsigned char>(bytes[at + i]);
  return out;
}

proxy_header_result parse_v2(std::span<const char> input) {
  if (input.size() < proxy_v2_fixed_bytes)
    return proxy_header_incomplete{};
  const auto version_command = static_cast<unsigned char>(input[12]);
  if ((version_command >> 4) != 0x2)
    return proxy_header_invalid{"v2: unknown version"};
  const unsigned command = version_command & 0x0F;
  if (command > 1)
    return proxy_header_invalid{"v2: unknown command"};
  const auto family_transport = static_cast<unsigned char>(input[13]);
  const unsigned family = family_transport >> 4;
  const unsigned transport = family_transport & 0x0F;
  if (family > 3 || transport > 2)
    return proxy_header_invalid{"v2: unknown address family or transport"};
  const std::size_t body = read_u16(input, 14);
  const std::size_t length = proxy_v2_fixed_bytes + body;
  if (input.size() < length)
    return proxy_header_incomplete{};

  constexpr unsigned local = 0;
  constexpr unsigned inet = 1;
  constexpr unsigned inet6 = 2;
  constexpr std::size_t inet_addresses = 12;   // two IPv4 addresses, two ports
  constexpr std::size_t inet6_addresses = 36;  // two IPv6 addresses, two ports
  const std::span<const char> addresses = input.subspan(proxy_v2_fixed_bytes, body);
  // LOCAL: the proxy's own connection; any address block is to be ignored.
  if (command == local)
    return proxy_header{std::nullopt, length};
  if (family == inet) {
    if (body < inet_addresses)
      return proxy_header_invalid{"v2: IPv4 address block too short"};
    const ip::address_v4 client(read_bytes<4>(addresses, 0));
    return proxy_header{ip::tcp::endpoint(client, read_u16(addresses, 8)), length};
  }
  if (family == inet6) {
    if (body < inet6_addresses)
      return proxy_header_invalid{"v2: IPv6 address block too short"};
    const ip::address_v6 client(read_bytes<16>(addresses, 0));
    return proxy_header{ip::tcp::endpoint(client, read_u16(addresses, 32)), length};
  }
  // UNSPEC or a Unix socket: no IP address to speak of.
  return proxy_header{std::nullopt, length};
}

}  // namespace

proxy_header_result parse_proxy_header(std::span<const char> input) {
  if (input.empty())
    return proxy_header_incomplete{};
  if (agrees_with(input, v2_signature)) {
    if (input.size() < v2_signature.size())
      return proxy_header_incomplete{};
    return parse_v2(input);
  }
  if (agrees_with(input, v1_signature)) {
    if (input.size() < v1_signature.size())
      return proxy_header_incomplete{};
    return parse_v1(input);
  }
  return proxy_header_invalid{"no PROXY protocol signature"};
}

}  // namespace cturn
