#pragma once

#include <optional>
#include <vector>

namespace cturn::bench {

// utime + stime of a process (all its threads), from /proc/PID/stat.
std::optional<double> process_cpu_seconds(int pid);

// VmRSS of a process in KiB, from /proc/PID/status.
std::optional<long> process_rss_kib(int pid);

// The same for several processes, one entry each; nullopt when any of them
// cannot be read (it has exited).
std::optional<std::vector<double>> process_cpu_seconds(const std::vector<int>& pids);
std::optional<std::vector<long>> process_rss_kib(const std::vector<int>& pids);

// CPU seconds (user + system) this process has used so far.
double own_cpu_seconds();

// Raises this process's soft descriptor limit to the hard limit.
void raise_descriptor_limit();

}  // namespace cturn::bench
