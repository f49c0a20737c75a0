// Feeds arbitrary bytes to the PROXY protocol header parser and checks that
// its answer is one a reader can act on: a complete header lies within the
// input and is decided by its own bytes alone (the client's data after it
// changes nothing, one byte less is not yet complete); "incomplete" never
// asks for more than the largest header; "invalid" stays invalid whatever
// follows.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>

#include "net/proxy_header.hpp"

namespace {

using cturn::parse_proxy_header;
using cturn::proxy_header;
using cturn::proxy_header_incomplete;
using cturn::proxy_header_invalid;

constexpr std::size_t largest_header = cturn::proxy_v2_fixed_bytes + 0xFFFF;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool same(const proxy_header& a, const proxy_header& b) {
  return a.length == b.length && a.client == b.client;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const char> input(reinterpret_cast<const char*>(data), size);
  const auto result = parse_proxy_header(input);

  if (const auto* header = std::get_if<proxy_header>(&result)) {
    require(header->length > 0 && header->length <= size, "header length outside the input");
    const auto alone = parse_proxy_header(input.first(header->length));
    const auto* again = std::get_if<proxy_header>(&alone);
    require(again != nullptr && same(*header, *again), "what follows the header changed it");
    require(std::holds_alternative<proxy_header_incomplete>(
                parse_proxy_header(input.first(header->length - 1))),
            "one byte less than a header is not incomplete");
  } else if (std::holds_alternative<proxy_header_incomplete>(result)) {
    require(size < largest_header, "incomplete past the largest possible header");
  } else {
    std::string longer(input.begin(), input.end());
    longer.push_back('\n');
    require(std::holds_alternative<proxy_header_invalid>(parse_proxy_header(longer)),
            "an invalid header became valid with more input");
  }
  return 0;
}
