#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "net/proxy_header.hpp"

using cturn::parse_proxy_header;
using cturn::proxy_header;
using cturn::proxy_header_incomplete;
using cturn::proxy_header_invalid;

namespace {

using namespace std::string_literals;

const std::string v2_signature = "\r\n\r\n\0\r\nQUIT\n"s;

// A v2 header: command (0 LOCAL, 1 PROXY), family/transport byte, address block.
std::string v2(unsigned char command, unsigned char family, const std::string& block) {
  std::string header = v2_signature;
  header.push_back(static_cast<char>(0x20 | command));
  header.push_back(static_cast<char>(family));
  header.push_back(static_cast<char>(block.size() >> 8));
  header.push_back(static_cast<char>(block.size() & 0xFF));
  return header + block;
}

const std::string ipv4_block =
    "\xC0\x00\x02\x07"  // 192.0.2.7
    "\x0A\x00\x00\x01"  // 10.0.0.1
    "\x30\x39"          // 12345
    "\x05\x39"s;        // 1337

proxy_header complete(std::string_view input) {
  const auto result = parse_proxy_header(input);
  const auto* header = std::get_if<proxy_header>(&result);
  if (header == nullptr) {
    const auto* invalid = std::get_if<proxy_header_invalid>(&result);
    BOOST_FAIL("not complete: " << (invalid != nullptr ? invalid->why : "incomplete"));
  }
  return *header;
}

bool incomplete(std::string_view input) {
  return std::holds_alternative<proxy_header_incomplete>(parse_proxy_header(input));
}

bool invalid(std::string_view input) {
  return std::holds_alternative<proxy_header_invalid>(parse_proxy_header(input));
}

std::string client_of(const proxy_header& header) {
  if (!header.client)
    return "local";
  return header.client->address().to_string() + " " + std::to_string(header.client->port());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_header_suite)

BOOST_AUTO_TEST_CASE(v1_tcp4_names_the_client_and_its_length) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 12345 1337\r\n";
  const proxy_header header = complete(line + "{\"type\":\"username\"}\n");
  BOOST_TEST(client_of(header) == "192.0.2.7 12345");
  BOOST_TEST(header.length == line.size());
}

BOOST_AUTO_TEST_CASE(v1_tcp6) {
  BOOST_TEST(client_of(complete("PROXY TCP6 2001:db8::7 2001:db8::1 65535 1337\r\n")) ==
             "2001:db8::7 65535");
}

BOOST_AUTO_TEST_CASE(v1_unknown_is_the_proxys_own_connection) {
  BOOST_TEST(client_of(complete("PROXY UNKNOWN\r\n")) == "local");
  BOOST_TEST(client_of(complete("PROXY UNKNOWN ffff:f...f 1 2\r\n")) == "local");
}

BOOST_AUTO_TEST_CASE(v1_every_prefix_is_incomplete) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 12345 1337\r\n";
  for (std::size_t size = 0; size < line.size(); ++size)
    BOOST_TEST(incomplete(std::string_view(line).substr(0, size)), size);
}

BOOST_AUTO_TEST_CASE(v1_malformed_lines_are_invalid) {
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.7 10.0.0.1 12345 1337\n"));      // no CR
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.7 10.0.0.1 12345\r\n"));         // a port missing
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.7 10.0.0.1 12345 1337 9\r\n"));  // one field too many
  BOOST_TEST(invalid("PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n"));         // wrong family
  BOOST_TEST(invalid("PROXY TCP6 192.0.2.7 10.0.0.1 1 2\r\n"));
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.777 10.0.0.1 1 2\r\n"));
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n"));
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.7 10.0.0.1 01 2\r\n"));
  BOOST_TEST(invalid("PROXY TCP4 192.0.2.7 10.0.0.1 -1 2\r\n"));
  BOOST_TEST(invalid("PROXY TCP4  192.0.2.7 10.0.0.1 1 2\r\n"));  // two spaces
  BOOST_TEST(invalid("PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n"));
  BOOST_TEST(invalid("PROXY \r\n"));
  BOOST_TEST(invalid("PROXY UNKNOWN" + std::string(200, ' ')));  // no CRLF within 107 bytes
}

BOOST_AUTO_TEST_CASE(anything_else_is_invalid_at_once) {
  BOOST_TEST(invalid("{"));
  BOOST_TEST(invalid("{\"type\":\"username\",\"content\":\"alice\"}\n"));
  BOOST_TEST(invalid("proxy TCP4"));
  BOOST_TEST(invalid("\r\n\r\n\0\r\nquit\n"s));
}

BOOST_AUTO_TEST_CASE(v2_proxy_over_ipv4) {
  const std::string header = v2(1, 0x11, ipv4_block);
  const proxy_header parsed = complete(header + "rest");
  BOOST_TEST(client_of(parsed) == "192.0.2.7 12345");
  BOOST_TEST(parsed.length == header.size());
}

BOOST_AUTO_TEST_CASE(v2_proxy_over_ipv6) {
  std::string block(16, '\0');
  block[0] = '\x20';
  block[1] = '\x01';
  block[2] = '\x0d';
  block[3] = '\xb8';
  block[15] = '\x07';  // 2001:db8::7
  block += std::string(16, '\0') + "\x30\x39\x05\x39"s;
  BOOST_TEST(client_of(complete(v2(1, 0x21, block))) == "2001:db8::7 12345");
}

BOOST_AUTO_TEST_CASE(v2_skips_tlvs_after_the_addresses) {
  const std::string tlv = "\x04\x00\x02ok"s;  // a NOOP TLV
  const std::string header = v2(1, 0x11, ipv4_block + tlv);
  const proxy_header parsed = complete(header + "x");
  BOOST_TEST(client_of(parsed) == "192.0.2.7 12345");
  BOOST_TEST(parsed.length == header.size());
}

BOOST_AUTO_TEST_CASE(v2_local_and_unspecified_families_are_the_proxys_own) {
  BOOST_TEST(client_of(complete(v2(0, 0x00, ""))) == "local");
  BOOST_TEST(client_of(complete(v2(0, 0x11, ipv4_block))) == "local");  // LOCAL ignores addresses
  BOOST_TEST(client_of(complete(v2(1, 0x00, ""))) == "local");
  BOOST_TEST(client_of(complete(v2(1, 0x31, std::string(216, '\0')))) == "local");  // Unix
}

BOOST_AUTO_TEST_CASE(v2_every_prefix_is_incomplete) {
  const std::string header = v2(1, 0x11, ipv4_block);
  for (std::size_t size = 0; size < header.size(); ++size)
    BOOST_TEST(incomplete(std::string_view(header).substr(0, size)), size);
}

BOOST_AUTO_TEST_CASE(v2_malformed_headers_are_invalid) {
  std::string wrong_version = v2(1, 0x11, ipv4_block);
  wrong_version[12] = '\x11';
  BOOST_TEST(invalid(wrong_version));
  BOOST_TEST(invalid(v2(2, 0x11, ipv4_block)));                // unknown command
  BOOST_TEST(invalid(v2(1, 0x41, ipv4_block)));                // unknown family
  BOOST_TEST(invalid(v2(1, 0x13, ipv4_block)));                // unknown transport
  BOOST_TEST(invalid(v2(1, 0x11, ipv4_block.substr(0, 11))));  // short IPv4 block
  BOOST_TEST(invalid(v2(1, 0x21, std::string(35, '\0'))));     // short IPv6 block
}

BOOST_AUTO_TEST_SUITE_END()
