// The one logger: spdlog's default logger, writing to stderr and, during a run, also to the
// run's log file. Modules call spdlog::info/warn/error directly. This header only configures it.
#pragma once

#include <string>

namespace grpo::logging {

// Level names: trace, debug, info, warn, error, off. An unknown name is a grpo::Error.
void set_level(const std::string& level);
// Adds (or replaces) the per-run log file sink; lines are flushed at info level and above.
void attach_file(const std::string& path);
void detach_file();

}  // namespace grpo::logging
