// The in-training evaluation and its logging; see evaluation_log.h.
#include "rl/stage/evaluation_log.h"

#include "core/logging.h"
#include "core/strings.h"

namespace grpo::rl {

policy::EvalResult evaluate_and_log(RunContext& ctx, const ExperimentConfig& cfg, rollout::RolloutEngine& engine,
                                    const policy::PolicyBundle& policy, const std::vector<datasets::Record>& records,
                                    const rewards::RewardSet& reward_set, int64_t step) {
  policy::EvalOptions eo;
  eo.k = cfg.train.eval_samples;
  eo.temperature = eo.k > 1 ? cfg.rollout.temperature : 0.0;
  eo.top_p = cfg.rollout.top_p;
  eo.max_new_tokens = cfg.rollout.max_new_tokens;
  eo.stop_strings = cfg.rollout.stop_strings;
  eo.seed = step_seed(cfg.run.seed, step, 255);
  auto result = policy::evaluate(engine, policy, records, reward_set, eo);
  ctx.log(step, result.metrics("eval"));
  logging::info(strformat("eval step %lld: pass@1 %.3f over %lld prompts, mean length %.1f", static_cast<long long>(step),
                          result.summary.pass_at_1, static_cast<long long>(result.summary.problems),
                          result.summary.mean_length));
  return result;
}

}  // namespace grpo::rl
