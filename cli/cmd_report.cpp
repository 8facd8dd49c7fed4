// `grpo report RUN_DIR [--output FILE]`: renders the run's HTML report (default RUN_DIR/report.html).
#include <iostream>

#include "cli/command.h"
#include "core/report.h"
#include "core/run_directory.h"

namespace {

void setup_report(CLI::App& root) {
  auto run_dir = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto* cmd = root.add_subcommand("report", "Render a run's HTML report (metrics, samples, events, config)");
  cmd->add_option("run_dir", *run_dir, "Run directory (holds run.db)")->required();
  cmd->add_option("-o,--output", *output, "Output file (default RUN_DIR/report.html)");
  cmd->callback([run_dir, output] {
    const std::string out = output->empty() ? *run_dir + "/report.html" : *output;
    grpo::write_file_atomic(out, grpo::render_report(*run_dir + "/run.db"));
    std::cout << "wrote " << out << "\n";
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(report, setup_report);
