// `grpo runs [DIR]`: the runs found in DIR (itself or its subdirectories), each with its
// name, last step and latest metrics. Reads run.db read-only, so it works during a run.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "core/run_directory.h"
#include "core/run_store.h"
#include "core/text/utf8.h"

namespace {

std::string format_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void setup_runs(CLI::App& root) {
  auto dir = std::make_shared<std::string>("runs");
  auto max_metrics = std::make_shared<int>(8);
  auto* cmd = root.add_subcommand("runs", "List runs in a directory with their last step and latest metrics");
  cmd->add_option("dir", *dir, "Directory holding runs (default: runs)");
  cmd->add_option("--metrics", *max_metrics, "How many latest metrics to show per run");
  cmd->callback([dir, max_metrics] {
    const auto runs = grpo::find_runs(*dir);
    if (runs.empty()) {
      std::cout << "no runs in " << *dir << "\n";
      return;
    }
    for (const auto& path : runs) {
      grpo::RunStoreReader reader(path + "/run.db");
      const auto name = reader.meta("run_name").value_or("?");
      const auto status = reader.meta("status").value_or("?");
      const auto step = reader.last_step();
      std::cout << grpo::to_valid_utf8(path) << "  name=" << name << "  status=" << status
                << "  last_step=" << (step ? std::to_string(*step) : "-") << "\n";
      int shown = 0;
      for (const auto& [metric, point] : reader.latest_metrics()) {
        if (shown++ >= *max_metrics) break;
        std::cout << "    " << metric << " = " << format_value(point.value) << " (step " << point.step << ")\n";
      }
    }
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(runs, setup_runs);
