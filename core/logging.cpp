// spdlog setup: one dist sink so the run's file can be attached and detached at run time.
#include "core/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "core/error.h"
#include "core/text/utf8.h"

namespace grpo::logging {
namespace {

struct State {
  std::shared_ptr<spdlog::sinks::dist_sink_mt> dist;
  std::shared_ptr<spdlog::sinks::sink> file;
};

State& state() {
  static State s = [] {
    State st;
    st.dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_pattern("[%H:%M:%S] %^%l%$ %v");
    st.dist->add_sink(console);
    auto logger = std::make_shared<spdlog::logger>("grpo", st.dist);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    return st;
  }();
  return s;
}

}  // namespace

void set_level(const std::string& level) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "off"};
  static const spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                     spdlog::level::info,  spdlog::level::warn,
                                                     spdlog::level::err,   spdlog::level::off};
  for (size_t i = 0; i < 6; ++i)
    if (level == names[i]) {
      state();
      spdlog::set_level(levels[i]);
      return;
    }
  throw Error("unknown log level '" + level + "' (expected trace, debug, info, warn, error or off)");
}

void attach_file(const std::string& path) {
  State& s = state();
  detach_file();
  try {
    s.file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  } catch (const spdlog::spdlog_ex& e) {
    throw Error(SourceLocation{path, 0, 0}, std::string("cannot open log file: ") + e.what());
  }
  s.file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %l %v");
  s.dist->add_sink(s.file);
}

void detach_file() {
  State& s = state();
  if (s.file) {
    s.file->flush();
    s.dist->remove_sink(s.file);
    s.file.reset();
  }
}

// Messages may quote model text; the console and the run's log file get valid UTF-8.
void debug(const std::string& message) {
  state();
  spdlog::debug(to_valid_utf8(message));
}
void info(const std::string& message) {
  state();
  spdlog::info(to_valid_utf8(message));
}
void warn(const std::string& message) {
  state();
  spdlog::warn(to_valid_utf8(message));
}
void error(const std::string& message) {
  state();
  spdlog::error(to_valid_utf8(message));
}

}  // namespace grpo::logging
