#pragma once

#include <optional>

namespace cturn::bench {

// utime + stime of a process (all its threads), from /proc/PID/stat.
std::optional<double> process_cpu_seconds(int pid);

// VmRSS of a process in KiB, from /proc/PID/status.
std::optional<long> process_rss_kib(int pid);

// CPU seconds (user + system) this process has used so far.
double own_cpu_seconds();

// Raises this process's soft descriptor limit to the hard limit.
void raise_descriptor_limit();

}  // namespace cturn::bench
