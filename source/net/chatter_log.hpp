#pragma once

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "log.hpp"

namespace cturn {

// The log lines of one connection's comings and goings (`connect`, `tls`,
// `username`, `resume`, `disconnect`, and any other line about it), at the
// level that fits: a health check's at debug, everyone else's as logged.
//
// A trusted proxy's own connection (PROXY LOCAL, v1 UNKNOWN) is a health
// check from its header on. A protocol probe (`cturn-server --check`, a load
// balancer's username check) looks like any session until it ends, so the
// lines of its arrival are held, as fields, until the connection shows what
// it is. It is no probe (the held lines go out at info, in order, and later
// lines at once) at its first command other than a single username, at any
// other line about it (an error, a resume, a close by the server), or when
// settle() is called at the end of the probe window. It is a probe when the
// client closes it (EOF or reset) while its lines are still held and after
// its welcome: then they all go out at debug, its `disconnect` too.
//
// Safe from any thread: the session's strand and the hub's both log here,
// and the one mutex keeps the connection's lines in the order they happened.
class chatter_log {
 public:
  using sink = void (*)(log_level, std::string_view event, std::span<const log_field>) noexcept;

  // `event` names and field keys must outlive the object (string literals).
  explicit chatter_log(bool health_check, sink out = &log_event);

  // An arrival line (`connect`, `tls`, `username`): held while the
  // connection may still be a probe. `welcome`: the `username` line, logged
  // as the welcome goes out; a probe is only a probe once it had it.
  void arrive(std::string_view event, std::initializer_list<log_field> fields,
              bool welcome = false) noexcept;
  // The connection is no probe.
  void settle() noexcept;
  // Any other line about the connection: it is no probe, unless already
  // known to be a health check (then `info` becomes `debug`).
  void log(log_level level, std::string_view event,
           std::initializer_list<log_field> fields) noexcept;
  // The connection has ended; `by_client`: the client closed or reset it.
  // Returns whether it was a protocol probe.
  bool end(bool by_client) noexcept;

 private:
  enum class verdict : std::uint8_t { undecided, session, health_check };
  struct held_line {
    std::string_view event;
    std::vector<log_field> fields;
  };

  // Writes out the held lines at `level`; the verdict is then `decided`.
  void release(log_level level, verdict decided) noexcept;
  log_level level_of(log_level level) const noexcept;

  std::mutex mutex_;
  sink out_;
  verdict verdict_;
  bool welcomed_ = false;
  std::vector<held_line> held_;
};

}  // namespace cturn
