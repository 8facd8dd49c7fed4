// The one logger: spdlog's default logger, writing to stderr and, during a run, also to the
// run's log file. Modules log through the functions below, never through spdlog directly:
// spdlog's headers must stay out of LibTorch translation units, because pip LibTorch 2.x ships
// its own {fmt} headers, which clash with the system {fmt} that spdlog was built against.
// Build messages with grpo::strformat (core/strings.h).
#pragma once

#include <string>

namespace grpo::logging {

// Level names: trace, debug, info, warn, error, off. An unknown name is a grpo::Error.
void set_level(const std::string& level);
// Adds (or replaces) the per-run log file sink; lines are flushed at info level and above.
void attach_file(const std::string& path);
void detach_file();

void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

}  // namespace grpo::logging
