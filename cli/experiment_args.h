// How `grpo eval` and `grpo generate` take their settings: the experiment configuration the
// trainers read (an optional --config FILE and key=value overrides, the same loader, schema and
// defaults: docs/config.md), with each command's flags kept as shorthands for keys ("--slots 8"
// is rollout.max_batch_sequences=8). Later wins: the file, then key=value, then the flags.
// Not here: the flags that name inputs and outputs (--model, --data, --output, ...).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "rl/experiment/experiment_config.h"

namespace grpo::cli {

struct ExperimentArgs {
  std::string config_file;                 // "" = the schema's defaults
  std::vector<std::string> overrides;      // key=value, as given
  std::vector<std::string> shorthands;     // key=value from the flags
};

// Adds --config FILE and the positional key=value overrides to `cmd`.
void add_experiment_options(CLI::App* cmd, ExperimentArgs& args);

// Adds `flag` (e.g. "--slots") as a shorthand for the scalar `key` (e.g.
// "rollout.max_batch_sequences"); its help names the key.
void add_shorthand(CLI::App* cmd, ExperimentArgs& args, const std::string& flag, const std::string& key,
                   const std::string& help);

// The same for a repeatable flag whose values, in order, make the list `key`.
void add_list_shorthand(CLI::App* cmd, ExperimentArgs& args, const std::string& flag, const std::string& key,
                        const std::string& help);

// The shorthands eval and generate share: --temperature, --top-p, --top-k, --min-p,
// --max-new-tokens, --stop, --slots (rollout.*), --seed, --device, --threads (run.*).
void add_sampling_shorthands(CLI::App* cmd, ExperimentArgs& args);

// The configuration: file, overrides and shorthands through load_experiment_config.
ExperimentConfig load_experiment(const ExperimentArgs& args);

}  // namespace grpo::cli
