// What every training stage sets up the same way: the run directory (locked), its log file,
// the run store with the resolved config, CPU threads, device and dtype, on --resume the
// newest checkpoint with its trainer state, and with run.tensorboard the TensorBoard event file
// that every metric, histogram and sample logged through log()/log_histograms()/log_samples()
// also goes to. Stages (GRPO, SFT) build on it.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/run_directory.h"
#include "core/run_store.h"
#include "core/tensorboard/run_events.h"
#include "rl/experiment/experiment_config.h"
#include "rl/stage/checkpoints.h"

namespace grpo::rl {

struct RunContext {
  RunDirectory dir;
  std::unique_ptr<RunStoreWriter> store;
  std::unique_ptr<tensorboard::RunEventWriter> tensorboard;  // <run>/tensorboard, with run.tensorboard
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  std::optional<std::filesystem::path> checkpoint;  // set on resume
  TrainerState state;                               // step 0 for a new run
  // False on data-parallel ranks other than 0: rank 0 alone writes checkpoints and the final model.
  bool saves_checkpoints = true;

  RunContext(RunDirectory d) : dir(std::move(d)) {}
  ~RunContext();
  // Marks the run finished (or failed) in the store and flushes it.
  void set_status(const std::string& status);
  // Logs metrics for `step` to the store (and TensorBoard).
  void log(int64_t step, const std::map<std::string, double>& metrics);
  // Logs histograms ({name: values}, MoE expert loads) for `step` to the store (and TensorBoard).
  void log_histograms(int64_t step, const std::map<std::string, std::vector<double>>& histograms);
  // Logs sample completions to the store (and each step's first few to TensorBoard as text).
  void log_samples(const std::vector<SampleRecord>& samples);
  // Checkpoints the stage at state.step (checkpoints.h), after flushing the store: a resume
  // never replays that step, so everything logged up to it must be durable first. Records a
  // "checkpoint" event and returns the checkpoint directory ("" where !saves_checkpoints).
  std::filesystem::path save_checkpoint(const TrainerState& state, const CheckpointContents& contents,
                                        int64_t keep_last);
};

// How a stage command was asked to run (`grpo rl|sft|distill`).
struct RunRequest {
  std::string run_dir;  // "" = config.run.output_dir
  bool resume = false;
  std::string config_text;  // resolved config YAML, saved into the run
  bool data_parallel = false;  // the stage runs this rank's share of a multi-rank job
};

// stage: "grpo", "sft" or "distill" (recorded, and checked on resume so one stage cannot resume
// another).
// A launcher's environment for several ranks (distributed/world.h) is refused naming the rank,
// unless the stage runs data-parallel (request.data_parallel).
std::unique_ptr<RunContext> open_run(const ExperimentConfig& config, const RunRequest& request,
                                     const std::string& stage);

// Runs one stage end to end: opens the run, calls `body`, marks the run finished (or failed, and
// rethrows), renders report.html. Returns the run directory.
std::string run_stage(const ExperimentConfig& config, const RunRequest& request, const std::string& stage,
                      const std::function<void(RunContext&)>& body);

// A seed for draw `stream` of step `step`, from the run seed (splitmix64 mixing).
uint64_t step_seed(uint64_t run_seed, int64_t step, uint64_t stream);

}  // namespace grpo::rl
