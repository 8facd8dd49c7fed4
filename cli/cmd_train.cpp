// `grpo rl CONFIG` and `grpo sft CONFIG`: the training stages, with --run-dir, --resume and
// key=value overrides. The resolved config is printed, saved in the run and stored in run.db.
#include <iostream>

#include "cli/command.h"
#include "rl/experiment/experiment_config.h"
#include "rl/trainer/grpo_trainer.h"
#include "rl/trainer/sft_trainer.h"

namespace {

struct TrainArgs {
  std::string config;
  std::string run_dir;
  bool resume = false;
  std::vector<std::string> overrides;
};

CLI::App* add_stage(CLI::App& root, const std::string& name, const std::string& help,
                    std::string (*run)(const grpo::ExperimentConfig&, const grpo::rl::RunRequest&)) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = root.add_subcommand(name, help);
  cmd->add_option("config", args->config, "Experiment config YAML")->required();
  cmd->add_option("overrides", args->overrides, "key=value overrides, e.g. rl.group_size=8");
  cmd->add_option("--run-dir", args->run_dir, "Run directory (default: run.output_dir)");
  cmd->add_flag("--resume", args->resume, "Continue the run in --run-dir from its newest checkpoint");
  cmd->callback([args, run] {
    auto config = grpo::load_experiment_config(args->config, args->overrides);
    grpo::rl::RunRequest request;
    request.run_dir = args->run_dir;
    request.resume = args->resume;
    request.config_text = grpo::config::to_yaml(config);
    const std::string dir = run(config, request);
    std::cout << "run finished: " << dir << "\n";
  });
  return cmd;
}

void setup_rl(CLI::App& root) {
  add_stage(root, "rl", "GRPO training: rollouts, rewards, group-relative advantages, clipped updates",
            grpo::rl::run_grpo);
}

void setup_sft(CLI::App& root) {
  add_stage(root, "sft", "Supervised fine-tuning (response-only loss) or pre-training (sft.mode=text)",
            grpo::rl::run_sft);
}

}  // namespace

GRPO_REGISTER_COMMAND(rl, setup_rl);
GRPO_REGISTER_COMMAND(sft, setup_sft);
