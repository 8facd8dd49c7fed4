// `grpo report RUN_DIR [RUN_DIR...] [-o FILE]`: one run's HTML report (default
// RUN_DIR/report.html), or with several runs their comparison (default compare.html in the
// current directory). Rendering lives in report/; this file only reads the arguments.
#include <iostream>

#include "cli/command.h"
#include "core/run_directory.h"
#include "report/report.h"

namespace {

void setup_report(CLI::App& root) {
  auto run_dirs = std::make_shared<std::vector<std::string>>();
  auto output = std::make_shared<std::string>();
  auto* cmd = root.add_subcommand(
      "report", "Render a run's HTML report, or with several runs their comparison (headline curves, config diff)");
  cmd->add_option("run_dirs", *run_dirs, "Run directories (each holds run.db)")->required();
  cmd->add_option("-o,--output", *output, "Output file (default RUN_DIR/report.html; compare.html for several runs)");
  cmd->callback([run_dirs, output] {
    std::vector<std::string> databases;
    for (const auto& dir : *run_dirs) databases.push_back(grpo::report::run_database_of(dir));
    std::string out = *output;
    if (databases.size() == 1) {
      if (out.empty()) out = run_dirs->front() + "/report.html";
      grpo::write_file_atomic(out, grpo::report::render_report(databases.front()));
    } else {
      if (out.empty()) out = "compare.html";
      grpo::write_file_atomic(out, grpo::report::render_comparison(databases));
    }
    std::cout << "wrote " << out << "\n";
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(report, setup_report);
