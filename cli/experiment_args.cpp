// The experiment configuration of `grpo eval` and `grpo generate`; see experiment_args.h.
#include "cli/experiment_args.h"

#include <nlohmann/json.hpp>

namespace grpo::cli {

void add_experiment_options(CLI::App* cmd, ExperimentArgs& args) {
  cmd->add_option("--config", args.config_file, "Experiment config YAML whose rollout:/run: settings to use");
  cmd->add_option("overrides", args.overrides, "key=value overrides, e.g. rollout.top_k=20");
}

void add_shorthand(CLI::App* cmd, ExperimentArgs& args, const std::string& flag, const std::string& key,
                   const std::string& help) {
  cmd->add_option_function<std::string>(
      flag, [&args, key](const std::string& value) { args.shorthands.push_back(key + "=" + value); },
      help + " (= " + key + ")");
}

void add_list_shorthand(CLI::App* cmd, ExperimentArgs& args, const std::string& flag, const std::string& key,
                        const std::string& help) {
  // A JSON array is a YAML flow list, with every string quoted and escaped.
  cmd->add_option_function<std::vector<std::string>>(
         flag,
         [&args, key](const std::vector<std::string>& values) {
           args.shorthands.push_back(key + "=" + nlohmann::json(values).dump());
         },
         help + " (repeatable; = " + key + ")")
      ->allow_extra_args(false);
}

void add_sampling_shorthands(CLI::App* cmd, ExperimentArgs& args) {
  add_shorthand(cmd, args, "--temperature", "rollout.temperature", "Sampling temperature; 0 = greedy");
  add_shorthand(cmd, args, "--top-p", "rollout.top_p", "Nucleus mass");
  add_shorthand(cmd, args, "--top-k", "rollout.top_k", "0 = off");
  add_shorthand(cmd, args, "--min-p", "rollout.min_p", "0 = off");
  add_shorthand(cmd, args, "--max-new-tokens", "rollout.max_new_tokens", "Completion length cap");
  add_list_shorthand(cmd, args, "--stop", "rollout.stop_strings", "Stop string");
  add_shorthand(cmd, args, "--slots", "rollout.max_batch_sequences", "Sequences decoded at once");
  add_shorthand(cmd, args, "--seed", "run.seed", "Sampling seed");
  add_shorthand(cmd, args, "--device", "run.device", "auto, cpu, cuda");
  add_shorthand(cmd, args, "--threads", "run.threads", "CPU threads (0 = all)");
}

ExperimentConfig load_experiment(const ExperimentArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  overrides.insert(overrides.end(), args.shorthands.begin(), args.shorthands.end());
  return load_experiment_config(args.config_file, overrides);
}

}  // namespace grpo::cli
