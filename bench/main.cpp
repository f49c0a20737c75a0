#include <csignal>
#include <iostream>

#include "jitter.hpp"
#include "load_generator.hpp"
#include "options.hpp"
#include "proc_stats.hpp"
#include "report.hpp"

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  cturn::bench::options config;
  std::string message;
  switch (cturn::bench::parse_options(argc, argv, config, message)) {
    case cturn::bench::parse_outcome::help:
      std::cout << message;
      return 0;
    case cturn::bench::parse_outcome::error:
      std::cerr << "cturn-bench: " << message << "\nTry 'cturn-bench --help'.\n";
      return 2;
    case cturn::bench::parse_outcome::run:
      break;
  }
  if (config.load == cturn::bench::mode::jitter) {
    const auto result = cturn::bench::measure_jitter(config.duration_s);
    cturn::bench::write_json(std::cout, config, result);
    cturn::bench::write_summary(std::cerr, config, result);
    return 0;
  }
  cturn::bench::raise_descriptor_limit();
  const auto result = cturn::bench::run_load(config);
  cturn::bench::write_json(std::cout, config, result);
  cturn::bench::write_summary(std::cerr, config, result);
  return result.completed ? 0 : 1;
}
