// `grpo export tensorboard RUN_DIR [--out DIR]`: writes the run's metrics, histograms and samples
// from run.db as a TensorBoard event file (default DIR: RUN_DIR/tensorboard); see
// core/tensorboard/tensorboard_export.h.
#include <iostream>

#include "cli/command.h"
#include "core/tensorboard/tensorboard_export.h"

namespace {

void setup_export(CLI::App& root) {
  auto* cmd = root.add_subcommand("export", "Write a run in another tool's format (tensorboard)");
  cmd->require_subcommand(1);
  auto run_dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* tb = cmd->add_subcommand("tensorboard",
                                 "Write RUN_DIR/run.db as TensorBoard event files: every metric as a scalar, each "
                                 "histogram (MoE expert loads) as a histogram, each step's first samples as text");
  tb->add_option("run_dir", *run_dir, "Run directory (holds run.db)")->required();
  tb->add_option("--out", *out, "Directory of the event file (default RUN_DIR/tensorboard)");
  tb->callback([run_dir, out] {
    const std::string dir = out->empty() ? *run_dir + "/tensorboard" : *out;
    const auto summary = grpo::tensorboard::export_tensorboard(*run_dir, dir);
    std::cout << "wrote " << summary.file.string() << " (" << summary.scalars << " scalars over " << summary.steps
              << " steps, " << summary.histograms << " histograms over " << summary.histogram_steps
              << " steps, samples text at " << summary.text_steps << " steps)\n";
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(export, setup_export);
