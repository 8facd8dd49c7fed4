// `grpo runs [DIR]`: a table of the runs found in DIR (itself or its subdirectories): status,
// steps, wall time, tokens/s, and the last and best held-out result (report/run_table.h says
// how each is computed). Reads run.db read-only, so it works during a run.
#include <iostream>

#include "cli/command.h"
#include "core/run_directory.h"
#include "report/run_table.h"

namespace {

void setup_runs(CLI::App& root) {
  auto dir = std::make_shared<std::string>("runs");
  auto width = std::make_shared<size_t>(100);
  auto* cmd = root.add_subcommand("runs", "Table of the runs in a directory: status, steps, wall time, tokens/s, eval");
  cmd->add_option("dir", *dir, "Directory holding runs (default: runs)");
  cmd->add_option("--width", *width, "Columns the table fits in (default 100)");
  cmd->callback([dir, width] {
    const auto runs = grpo::find_runs(*dir);
    if (runs.empty()) {
      std::cout << "no runs in " << *dir << "\n";
      return;
    }
    std::vector<grpo::report::RunSummary> summaries;
    for (const auto& path : runs) summaries.push_back(grpo::report::summarize_run(path));
    std::cout << grpo::report::format_run_table(summaries, *width);
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(runs, setup_runs);
