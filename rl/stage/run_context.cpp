// Run setup shared by the training stages; see run_context.h.
#include "rl/stage/run_context.h"

#include <chrono>

#include "core/error.h"
#include "core/strings.h"
#include "core/logging.h"
#include "core/torch/device.h"
#include "distributed/world.h"
#include "report/report.h"

namespace grpo::rl {
namespace {

double seconds_since_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint64_t step_seed(uint64_t run_seed, int64_t step, uint64_t stream) {
  uint64_t z = run_seed ^ (0x9E3779B97F4A7C15ull * (static_cast<uint64_t>(step) + 1)) ^ (stream << 56);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

RunContext::~RunContext() { logging::detach_file(); }

void RunContext::set_status(const std::string& status) {
  store->set_meta("status", status);
  store->flush();
}

void RunContext::log(int64_t step, const std::map<std::string, double>& metrics) {
  store->log_metrics(step, metrics);
  if (!tensorboard) return;
  tensorboard->log_metrics(step, seconds_since_epoch(), metrics);
  tensorboard->flush();  // a TensorBoard watching the run sees each step as it ends
}

void RunContext::log_histograms(int64_t step, const std::map<std::string, std::vector<double>>& histograms) {
  for (const auto& [name, values] : histograms) store->log_histogram(step, name, values);
  if (tensorboard) tensorboard->log_histograms(step, seconds_since_epoch(), histograms);
}

void RunContext::log_samples(const std::vector<SampleRecord>& samples) {
  store->log_samples(samples);
  if (tensorboard) tensorboard->log_samples(seconds_since_epoch(), samples);
}

std::filesystem::path RunContext::save_checkpoint(const TrainerState& state, const CheckpointContents& contents,
                                                  int64_t keep_last) {
  if (!saves_checkpoints) return {};
  store->flush();
  auto path = rl::save_checkpoint(dir.checkpoints_dir(), state, contents, keep_last);
  store->log_event("info", "checkpoint", path.string(), state.step);
  return path;
}

std::unique_ptr<RunContext> open_run(const ExperimentConfig& config, const RunRequest& request,
                                     const std::string& stage) {
  // Several processes would share one run directory; refused before it is touched.
  const auto world = distributed::world_from_environment();
  require(!world.distributed() || request.data_parallel,
          "this process is " + distributed::describe(world) + ", but `grpo " + stage +
              "` does not run data-parallel yet (only `grpo rl` does, docs/distributed.md); launch one process");
  const std::string path = request.run_dir.empty() ? config.run.output_dir : request.run_dir;
  auto ctx = std::make_unique<RunContext>(RunDirectory::open(path, request.resume));
  logging::set_level(config.run.log_level);
  logging::attach_file(ctx->dir.log_path());
  set_cpu_threads(static_cast<int>(config.run.threads));
  ctx->device = parse_device(config.run.device);
  const std::string dtype = config.run.dtype == "auto" ? (ctx->device.is_cuda() ? "bfloat16" : "float32")
                                                       : config.run.dtype;
  ctx->dtype = parse_dtype(dtype);
  // LibTorch's CPU kernels lack most float16 matmuls; float16 exists for the GPU's mismatch.
  require(ctx->dtype != torch::kFloat16 || ctx->device.is_cuda(),
          "run.dtype: float16 needs a CUDA device (run.device is " + config.run.device +
              "); use float32 or bfloat16 on the CPU");
  ctx->store = std::make_unique<RunStoreWriter>(ctx->dir.db_path());
  if (request.resume) {
    RunStoreReader reader(ctx->dir.db_path());
    const auto recorded = reader.meta("stage");
    if (recorded && *recorded != stage)
      throw Error(SourceLocation{path, 0, 0}, "this run is a '" + *recorded + "' run; it cannot be resumed by '" + stage + "'");
    ctx->checkpoint = latest_checkpoint(ctx->dir.checkpoints_dir());
    if (ctx->checkpoint) {
      ctx->state = read_trainer_state(*ctx->checkpoint);
      logging::info(strformat("resuming %s from %s (step %lld)", path.c_str(), ctx->checkpoint->string().c_str(), static_cast<long long>(ctx->state.step)));
    } else {
      logging::info("resuming " + path + ": no checkpoint yet, starting from step 0");
    }
    // Steps after the checkpoint are replayed; drop what the interrupted run logged for them.
    ctx->store->truncate_after(ctx->state.step);
    ctx->store->log_event("info", "resume", "resumed at step " + std::to_string(ctx->state.step), ctx->state.step);
  }
  if (config.run.tensorboard) {
    ctx->tensorboard = std::make_unique<tensorboard::RunEventWriter>(std::filesystem::path(path) / "tensorboard");
    // TensorBoard drops what earlier files hold from the resumed step on, as the store did.
    if (request.resume) ctx->tensorboard->log_restart(ctx->state.step + 1, seconds_since_epoch());
  }
  ctx->dir.save_config(request.config_text);
  ctx->store->set_meta("run_name", config.run.name);
  ctx->store->set_meta("stage", stage);
  ctx->store->set_meta("config", request.config_text);
  ctx->store->set_meta("status", "running");
  ctx->store->flush();
  logging::info("run directory " + path + " (" + stage + " on " + describe_device(ctx->device) + ", " + dtype_name(ctx->dtype) + ")");
  return ctx;
}

std::string run_stage(const ExperimentConfig& config, const RunRequest& request, const std::string& stage,
                      const std::function<void(RunContext&)>& body) {
  auto ctx = open_run(config, request, stage);
  try {
    body(*ctx);
  } catch (...) {
    ctx->set_status("failed");
    throw;
  }
  ctx->set_status("finished");
  write_file_atomic(ctx->dir.report_path(), report::render_report(ctx->dir.db_path()));
  logging::info("report: " + ctx->dir.report_path());
  return ctx->dir.path();
}

}  // namespace grpo::rl
