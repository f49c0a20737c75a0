#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "config.hpp"
#include "log.hpp"
#include "make_hub.hpp"
#include "net/probe.hpp"
#include "net/server.hpp"

extern char** environ;

namespace {

std::vector<std::string> environment_names() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    names.push_back(text.substr(0, text.find('=')));
  }
  return names;
}

}  // namespace

int main(int argc, char* argv[]) {
  // A peer that vanishes mid-write must cost an error code, not the process.
  std::signal(SIGPIPE, SIG_IGN);

  const auto parsed = cturn::parse_command_line(
      argc, argv, [](const char* name) { return std::getenv(name); }, environment_names());
  if (!parsed) {
    std::cerr << "cturn-server: " << parsed.error() << "\nTry 'cturn-server --help'.\n";
    return 2;
  }
  switch (parsed->action) {
    case cturn::startup_action::print_and_exit:
      std::cout << parsed->text;
      return 0;
    case cturn::startup_action::check:
      return cturn::probe_server(parsed->config);
    case cturn::startup_action::serve:
      break;
  }

  cturn::set_log_level(parsed->config.level);
  for (const auto& unknown : parsed->unknown_variables) {
    if (unknown.suggestion.empty())
      cturn::log_event(cturn::log_level::warn, "unknown-variable", {{"name", unknown.name}});
    else
      cturn::log_event(cturn::log_level::warn, "unknown-variable",
                       {{"name", unknown.name}, {"did_you_mean", unknown.suggestion}});
  }
  int status = 1;
  try {
    cturn::server server(parsed->config, cturn::make_hub);
    status = server.run();
  } catch (const std::exception& error) {
    cturn::log_event(cturn::log_level::error, "fatal", {{"what", error.what()}});
  }
  // The server's signal handling is gone with it, which puts SIGTERM back to
  // its default: a second signal during the last steps of exit (the log's
  // final flush) must not turn a clean exit into death by signal.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  return status;
}
