#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace cturn::bench {
namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream file(path);
  if (!file)
    return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

template <typename Value>
std::optional<std::vector<Value>> each(const std::vector<int>& pids,
                                       std::optional<Value> (*read)(int)) {
  std::vector<Value> values;
  values.reserve(pids.size());
  for (const int pid : pids) {
    const auto value = read(pid);
    if (!value)
      return std::nullopt;
    values.push_back(*value);
  }
  return values;
}

}  // namespace

std::optional<double> process_cpu_seconds(int pid) {
  const auto text = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!text)
    return std::nullopt;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const auto close = text->rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream fields(text->substr(close + 1));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number == 14)
      utime = std::stoull(field);
    if (number == 15)
      stime = std::stoull(field);
  }
  if (!fields)
    return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<long> process_rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:"))
      return std::stol(line.substr(6));
  }
  return std::nullopt;
}

std::optional<std::vector<double>> process_cpu_seconds(const std::vector<int>& pids) {
  return each<double>(pids, &process_cpu_seconds);
}

std::optional<std::vector<long>> process_rss_kib(const std::vector<int>& pids) {
  return each<long>(pids, &process_rss_kib);
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace cturn::bench
