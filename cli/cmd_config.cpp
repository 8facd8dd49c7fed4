// `grpo config show FILE [key=value ...]`, `grpo config check FILE [key=value ...]` and
// `grpo config docs`: print the resolved config, validate it, or print docs/config.md.
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "rl/experiment/experiment_config.h"

namespace {

void setup_config(CLI::App& root) {
  auto* config = root.add_subcommand("config", "Show, check or document experiment configs");
  config->require_subcommand(1);

  struct Args {
    std::string file;
    std::vector<std::string> overrides;
  };
  auto show_args = std::make_shared<Args>();
  auto* show = config->add_subcommand("show", "Print the resolved config (defaults + file + overrides) as YAML");
  show->add_option("file", show_args->file, "Config YAML")->required();
  show->add_option("overrides", show_args->overrides, "key=value overrides, e.g. rl.group_size=8");
  show->callback([show_args] {
    auto cfg = grpo::load_experiment_config(show_args->file, show_args->overrides);
    std::cout << grpo::config::to_yaml(cfg);
  });

  auto check_args = std::make_shared<Args>();
  auto* check = config->add_subcommand("check", "Validate a config; exit 0, or print every error and exit 1");
  check->add_option("file", check_args->file, "Config YAML")->required();
  check->add_option("overrides", check_args->overrides, "key=value overrides");
  check->callback([check_args] {
    try {
      grpo::load_experiment_config(check_args->file, check_args->overrides);
    } catch (const grpo::Error& e) {
      std::cerr << e.what() << "\n";
      throw grpo::cli::ExitCode{1};
    }
    std::cout << check_args->file << ": ok\n";
  });

  auto* docs = config->add_subcommand("docs", "Print the configuration reference (docs/config.md)");
  docs->callback([] { std::cout << grpo::experiment_config_docs(); });
}

}  // namespace

GRPO_REGISTER_COMMAND(config, setup_config);
