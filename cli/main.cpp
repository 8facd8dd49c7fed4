// Entry point of the `grpo` binary: builds the CLI11 app from the registered subcommands,
// runs the chosen one, and turns errors into one line on stderr and a non-zero exit.
#include <algorithm>
#include <iostream>

#include "cli/command.h"
#include "core/crash_handler.h"
#include "core/error.h"

namespace grpo::cli {
std::vector<RegisteredCommand>& registered_commands() {
  static std::vector<RegisteredCommand> commands;
  return commands;
}
}  // namespace grpo::cli

int main(int argc, char** argv) {
  using namespace grpo::cli;
  grpo::install_crash_handler();
  CLI::App app{"grpo.cpp: GRPO reinforcement-learning post-training for language models", "grpo"};
  app.set_version_flag("--version", std::string("grpo ") + GRPO_VERSION);
  app.require_subcommand(1);
  auto& commands = registered_commands();
  std::sort(commands.begin(), commands.end(),
            [](const RegisteredCommand& a, const RegisteredCommand& b) { return a.name < b.name; });
  for (const auto& c : commands) c.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ExitCode& e) {
    return e.code;
  } catch (const grpo::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
