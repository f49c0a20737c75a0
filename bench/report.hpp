#pragma once

#include <ostream>

#include "jitter.hpp"
#include "load_generator.hpp"
#include "options.hpp"

namespace cturn::bench {

// One JSON object on one line, for scripts.
void write_json(std::ostream& out, const options& config, const run_result& result);

// A few lines for people.
void write_summary(std::ostream& out, const options& config, const run_result& result);

void write_json(std::ostream& out, const options& config, const jitter_result& result);
void write_summary(std::ostream& out, const options& config, const jitter_result& result);

}  // namespace cturn::bench
