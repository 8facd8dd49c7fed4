// The `run:` section every grpo config has: identity, seed, output and machine settings,
// described and validated here. Domain sections (model, rollout, rewards, rl, ...) live with
// their modules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"

namespace grpo {

struct RunSettings {
  std::string name;
  std::string output_dir;
  int64_t seed = 0;
  std::string log_level;
  int64_t threads = 0;
  std::string device;
  std::string dtype;
  bool tensorboard = false;
};

inline void describe(config::Fields& f, RunSettings& s) {
  f.field("name", s.name, "run", "Human-readable run name, shown by `grpo runs` and the report.");
  f.field("output_dir", s.output_dir, "runs/run", "Run directory (config.yaml, run.db, run.log, checkpoints/); --run-dir overrides it.");
  f.field("seed", s.seed, 0, "Seed of every random choice in the run (data order, sampling, initialization).");
  f.choice("log_level", s.log_level, "info", {"trace", "debug", "info", "warn", "error"}, "Console and run.log verbosity.");
  f.field("threads", s.threads, 0, "CPU threads for LibTorch and the worker pool; 0 = all cores.");
  f.field("device", s.device, "auto", "auto, cpu, cuda or cuda:N; auto picks CUDA when available.");
  f.choice("dtype", s.dtype, "auto", {"auto", "float32", "bfloat16", "float16"}, "Compute dtype of the models; auto = bfloat16 on GPU, float32 on CPU. float16 (GPU only) trains with dynamic loss scaling and cuts the rollout/learner log-prob mismatch about 8x against bfloat16 (docs/precision.md). Training keeps float32 master weights and AdamW state whatever it is.");
  f.field("tensorboard", s.tensorboard, false,
          "Also write TensorBoard event files into <run>/tensorboard as metrics and samples are logged (every "
          "metric as a scalar, a few samples per step as text); `grpo export tensorboard RUN` writes them "
          "afterwards from run.db.");
}

// Every problem of the section, one message each naming its key ('run.threads'); empty = valid.
inline std::vector<std::string> validate(const RunSettings& s) {
  std::vector<std::string> problems;
  if (s.threads < 0) problems.push_back("'run.threads' must be >= 0");
  if (s.output_dir.empty()) problems.push_back("'run.output_dir' must not be empty");
  return problems;
}

}  // namespace grpo
