// `grpo distill CONFIG [--run-dir DIR] [--resume] [key=value...]`: make a student from a
// teacher (distill: section) — SFT on the teacher's reward-filtered samples, or on-policy
// reverse-KL distillation. A thin layer over rl::run_distill; the options are those of
// `grpo rl` and `grpo sft`.
#include <iostream>

#include "cli/command.h"
#include "rl/experiment/experiment_config.h"
#include "rl/trainer/distill_trainer.h"

namespace {

struct DistillArgs {
  std::string config;
  std::string run_dir;
  bool resume = false;
  std::vector<std::string> overrides;
};

void setup_distill(CLI::App& root) {
  auto args = std::make_shared<DistillArgs>();
  auto* cmd = root.add_subcommand(
      "distill", "Distillation: SFT on a teacher's filtered samples, or on-policy reverse KL (distill.mode)");
  cmd->add_option("config", args->config, "Experiment config YAML")->required();
  cmd->add_option("overrides", args->overrides, "key=value overrides, e.g. distill.samples_per_prompt=8");
  cmd->add_option("--run-dir", args->run_dir, "Run directory (default: run.output_dir)");
  cmd->add_flag("--resume", args->resume, "Continue the run in --run-dir (reuses its distill_data.jsonl)");
  cmd->callback([args] {
    auto config = grpo::load_experiment_config(args->config, args->overrides);
    grpo::rl::RunRequest request;
    request.run_dir = args->run_dir;
    request.resume = args->resume;
    request.config_text = grpo::config::to_yaml(config);
    const std::string dir = grpo::rl::run_distill(config, request);
    std::cout << "run finished: " << dir << "\n";
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(distill, setup_distill);
