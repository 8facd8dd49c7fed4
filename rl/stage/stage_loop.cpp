// The training loop shared by every stage and its in-training evaluation; see stage_loop.h.
#include "rl/stage/stage_loop.h"

#include "core/logging.h"
#include "core/progress.h"
#include "core/strings.h"
#include "model/io/model_io.h"
#include "model/lora/lora_adapters.h"
#include "model/lora/merge.h"
#include "model/lora/peft_format.h"

namespace grpo::rl {

StageLoop::StageLoop(std::string name, const TrainSettings& train)
    : name(std::move(name)),
      steps(train.steps),
      save_every(train.save_every),
      keep_last(train.keep_last),
      eval_every(train.eval_every) {}

bool StageLoop::eval_due(int64_t step) const {
  if (eval_every <= 0) return false;
  if (step == 0) return eval_at_ends;
  return step % eval_every == 0 || (eval_at_ends && step == steps);
}

bool StageLoop::save_due(int64_t step) const { return step == steps || (save_every > 0 && step % save_every == 0); }

void run_stage_loop(RunContext& run, const StageLoop& loop, const CheckpointContents& checkpoint,
                    const datasets::ShuffleSampler& sampler, const StepFn& step, const EvalFn& evaluate) {
  const int64_t start = run.state.step;
  if (evaluate && start == 0 && loop.eval_due(0)) evaluate(0);
  Progress progress(loop.name, loop.steps - start, "steps", 30.0);
  for (int64_t s = start + 1; s <= loop.steps; ++s) {
    const std::string note = step(s);
    if (evaluate && loop.eval_due(s)) evaluate(s);
    if (loop.save_due(s)) {
      TrainerState state;
      state.step = s;
      state.data = datasets::to_json(sampler.state());
      run.save_checkpoint(state, checkpoint, loop.keep_last);
    }
    progress.advance(1, note);
  }
  progress.finish();
}

policy::EvalResult evaluate_and_log(RunContext& run, const ExperimentConfig& cfg, rollout::RolloutEngine& engine,
                                    const policy::PolicyBundle& policy, const std::vector<datasets::Record>& records,
                                    const rewards::RewardSet& reward_set, int64_t step) {
  const auto options = policy::eval_options(cfg.rollout, cfg.train.eval_samples, step_seed(cfg.run.seed, step, 255));
  auto result = policy::evaluate(engine, policy, records, reward_set, options);
  run.log(step, result.metrics("eval"));
  logging::info(strformat("eval step %lld: pass@1 %.3f over %lld prompts, mean length %.1f", static_cast<long long>(step),
                          result.summary.pass_at_1, static_cast<long long>(result.summary.problems),
                          result.summary.mean_length));
  return result;
}

void refresh_engine_weights(rollout::RolloutEngine& engine, model::CausalLM& policy) {
  engine.refresh_weights(policy);
  if (engine.policy().get() != policy.get() && model::has_lora(policy)) model::publish_merged_lora(engine.policy(), policy);
}

std::filesystem::path save_final_policy(RunContext& run, policy::PolicyBundle& policy, const std::string& role) {
  if (!run.saves_checkpoints) return {};
  const auto dir = std::filesystem::path(run.dir.path()) / "final";
  model::SaveOptions so;
  so.source_dir = policy.source_dir;
  if (model::has_lora(policy.model)) {  // the adapters, then the merged model (training is over)
    model::save_adapter(policy.model, policy.source_dir, dir / "adapter");
    model::merge_lora_(policy.model);
  }
  model::save_model(policy.model, dir, so);
  logging::info("final " + role + ": " + dir.string());
  return dir;
}

}  // namespace grpo::rl
