// How a `grpo` subcommand plugs into the binary: each cli/cmd_<name>.cpp defines a setup
// function that adds its CLI11 subcommand, and registers it with GRPO_REGISTER_COMMAND.
// Subcommands are thin: parse flags, call library code, print. Errors are thrown as
// grpo::Error (one line, exit 1); a command that must exit with another status throws ExitCode.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace grpo::cli {

using CommandSetup = void (*)(CLI::App& root);

struct RegisteredCommand {
  std::string name;
  CommandSetup setup;
};

// All registered commands, sorted by name when main() reads them.
std::vector<RegisteredCommand>& registered_commands();

struct CommandRegistrar {
  CommandRegistrar(const char* name, CommandSetup setup) { registered_commands().push_back({name, setup}); }
};

// Thrown by a command to end the process with `code` after printing nothing more.
struct ExitCode {
  int code;
};

}  // namespace grpo::cli

#define GRPO_REGISTER_COMMAND(name, setup) \
  static const ::grpo::cli::CommandRegistrar grpo_command_registrar_##name(#name, setup)
