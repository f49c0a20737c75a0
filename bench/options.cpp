#include "options.hpp"

#include <unistd.h>

#include <charconv>
#include <functional>
#include <map>
#include <string_view>
#include <system_error>
#include <utility>

namespace cturn::bench {
namespace {

constexpr std::string_view usage = R"(Usage: cturn-bench [options]

Load generator for CTurn (and for cturn-bare-relay with --target bare).
Prints one JSON object on stdout and a summary on stderr.

  --host ADDR           server address (127.0.0.1)
  --port N[,N...]       server port (1337); several: the nodes of one cluster,
                        member m of every room on the (m mod count)-th port
  --target cturn|bare   protocol to speak (cturn)
  --tls                 every client speaks TLS to the server (CTurn only; the
                        server's certificate is not verified: the benchmark's
                        is a throw-away self-signed one)
  --mode broadcast|directed|idle|jitter
                        broadcast: one message per round to the room;
                        directed: one message per recipient per round (`to`),
                        as end-to-end-encrypted clients send;
                        idle: open --connections registered connections and
                        report the server's RSS per connection;
                        jitter: no network; spin for --duration seconds and
                        report how long this core was taken away (the
                        machine's scheduling noise, the floor under latency)
  --rooms R             rooms (10)
  --members K           members per room (5)
  --senders S           senders per room, 0 = every member (0)
  --size B              payload bytes per message, at least 37 (64)
  --rate D              open loop: total deliveries per second; 0 = closed loop (0)
  --window W            closed loop: rounds in flight per sender (4)
  --inflight N          closed loop: deliveries in flight in all; sets --window to
                        N / (rooms * senders * (members - 1)), at least 1
  --warmup SECONDS      warm-up before measuring (1)
  --duration SECONDS    measured interval (3)
  --drain SECONDS       longest wait for messages in flight at the end (5)
  --setup-timeout SECONDS
                        longest time to connect and register everyone (120)
  --connections N       idle mode: connections, K per room (0)
  --settle SECONDS      idle mode: wait before reading the server's RSS (1)
  --parallel N          registrations in progress at once (128)
  --per-source N        connections per 127.0.0.x source address (2000): the
                        kernel's search for a free ephemeral port grows with
                        the connections already made from one address
  --server-pid PID[,PID...]
                        read the server's CPU time and RSS from /proc; several
                        (a cluster's nodes and its Redis): summed, and each
  --tag TEXT            prefix of user and room names (b<pid>)
  --label TEXT          copied into the JSON output
  --help
)";

template <typename Number>
bool parse_number(std::string_view text, Number& out) {
  if constexpr (std::is_floating_point_v<Number>) {
    try {
      std::size_t used = 0;
      out = static_cast<Number>(std::stod(std::string(text), &used));
      return used == text.size() && out >= 0;
    } catch (const std::exception&) {
      return false;
    }
  } else {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size();
  }
}

// "a,b,c" -> {a, b, c}; no empty items, at least one.
template <typename Number>
bool parse_list(std::string_view text, std::vector<Number>& out) {
  std::vector<Number> items;
  for (;;) {
    const auto comma = text.find(',');
    Number item{};
    if (!parse_number(text.substr(0, comma), item))
      return false;
    items.push_back(item);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  out = std::move(items);
  return true;
}

}  // namespace

parse_outcome parse_options(int argc, char** argv, options& result, std::string& message) {
  using setter = std::function<bool(std::string_view)>;
  const auto number = [](auto& field) {
    return setter([&field](std::string_view text) { return parse_number(text, field); });
  };
  const auto list = [](auto& field) {
    return setter([&field](std::string_view text) { return parse_list(text, field); });
  };
  const auto text = [](std::string& field) {
    return setter([&field](std::string_view value) {
      field = value;
      return true;
    });
  };
  const std::map<std::string_view, setter> flags = {
      {"host", text(result.host)},
      {"port", list(result.ports)},
      {"target",
       [&](std::string_view value) {
         if (value == "cturn")
           result.kind = target::cturn;
         else if (value == "bare")
           result.kind = target::bare;
         else
           return false;
         return true;
       }},
      {"mode",
       [&](std::string_view value) {
         if (value == "broadcast")
           result.load = mode::broadcast;
         else if (value == "directed")
           result.load = mode::directed;
         else if (value == "idle")
           result.load = mode::idle;
         else if (value == "jitter")
           result.load = mode::jitter;
         else
           return false;
         return true;
       }},
      {"rooms", number(result.rooms)},
      {"members", number(result.members)},
      {"senders", number(result.senders)},
      {"size", number(result.size)},
      {"rate", number(result.rate)},
      {"window", number(result.window)},
      {"inflight", number(result.inflight)},
      {"warmup", number(result.warmup_s)},
      {"duration", number(result.duration_s)},
      {"drain", number(result.drain_s)},
      {"setup-timeout", number(result.setup_s)},
      {"connections", number(result.connections)},
      {"settle", number(result.settle_s)},
      {"parallel", number(result.setup_parallel)},
      {"per-source", number(result.per_source_address)},
      {"server-pid", list(result.server_pids)},
      {"tag", text(result.tag)},
      {"label", text(result.label)},
  };

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      message = usage;
      return parse_outcome::help;
    }
    if (arg == "--tls") {
      result.tls = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      message = "unexpected argument: " + std::string(arg);
      return parse_outcome::error;
    }
    arg.remove_prefix(2);
    std::string_view value;
    if (const auto equals = arg.find('='); equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      message = "--" + std::string(arg) + " needs a value";
      return parse_outcome::error;
    }
    const auto found = flags.find(arg);
    if (found == flags.end()) {
      message = "unknown option --" + std::string(arg);
      return parse_outcome::error;
    }
    if (!found->second(value)) {
      message = "bad value for --" + std::string(arg) + ": " + std::string(value);
      return parse_outcome::error;
    }
  }

  if (result.senders == 0 || result.senders > result.members)
    result.senders = result.members;
  if (result.tag.empty())
    result.tag = "b" + std::to_string(getpid());
  if (result.load == mode::jitter)
    return parse_outcome::run;
  if (result.tls && result.kind == target::bare) {
    message = "--tls needs --target cturn: the bare relay speaks plain TCP only";
    return parse_outcome::error;
  }
  if (result.load == mode::idle) {
    if (result.connections == 0) {
      message = "--mode idle needs --connections";
      return parse_outcome::error;
    }
    result.rooms = (result.connections + result.members - 1) / result.members;
  } else {
    result.connections = result.rooms * result.members;
    if (result.members < 2) {
      message = "--members must be at least 2";
      return parse_outcome::error;
    }
    if (result.inflight != 0) {
      const std::size_t per_round = result.rooms * result.senders * (result.members - 1);
      result.window = (result.inflight + per_round / 2) / per_round;
    }
    if (result.window == 0)
      result.window = 1;
  }
  if (result.connections == 0 || result.connections > max_sender) {
    message = "the number of connections must be between 1 and 9999999";
    return parse_outcome::error;
  }
  if (result.size < stamp_size) {
    message = "--size must be at least " + std::to_string(stamp_size);
    return parse_outcome::error;
  }
  if (result.setup_parallel == 0)
    result.setup_parallel = 1;
  if (result.per_source_address == 0)
    result.per_source_address = 2000;
  return parse_outcome::run;
}

}  // namespace cturn::bench
