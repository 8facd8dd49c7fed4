// The whole configuration of a grpo experiment, composed from each module's own section.
// One schema serves `grpo rl`, `sft`, `distill` and `config show|check|docs`: a stage reads
// the sections it needs and ignores the rest. docs/config.md is generated from it.
#pragma once

#include <string>

#include "core/config/config_io.h"
#include "core/run_settings.h"

namespace grpo {

struct ExperimentConfig {
  RunSettings run;
};

inline void describe(config::Fields& f, ExperimentConfig& c) {
  f.section("run", c.run, "Run identity, seed, output directory and machine settings.");
}

// Cross-field checks that a single key's type cannot express (e.g. batch divisible by group
// size). Throws one grpo::Error listing every problem.
void validate(const ExperimentConfig& config);

// Loads FILE with key=value overrides, then validates. Errors name file:line:column.
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides);

// docs/config.md, generated from the descriptions above.
std::string experiment_config_docs();

}  // namespace grpo
