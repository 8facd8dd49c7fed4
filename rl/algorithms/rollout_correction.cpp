// Truncated / masked importance weights between the rollout sampler and the learner
// (see rollout_correction.h).
#include "rl/algorithms/rollout_correction.h"

#include "core/error.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

constexpr double kLogRatioClamp = 20.0;

enum class Level { token, sequence };
enum class Bound { truncate, mask };

RolloutCorrectionResult correct(const torch::Tensor& old_logprobs, const torch::Tensor& rollout_logprobs,
                                const torch::Tensor& mask, const RolloutCorrectionOptions& o, Level level,
                                Bound bound) {
  require_rank(old_logprobs, 2, "old_logprobs");
  require_shape(rollout_logprobs, old_logprobs.sizes(), "rollout_logprobs");
  require_shape(mask, old_logprobs.sizes(), "mask");
  require(o.clip_min >= 0.0 && o.clip_max > o.clip_min,
          "rollout correction: expected 0 <= clip_min < clip_max, got clip_min " +
              std::to_string(o.clip_min) + ", clip_max " + std::to_string(o.clip_max));
  const auto m = float_mask(mask);
  const auto diff = zero_outside_mask(old_logprobs.detach() - rollout_logprobs.detach(), mask);
  auto log_w = level == Level::token ? diff : diff.sum(1, true).expand_as(diff);
  const auto raw = torch::exp(log_w.clamp(-kLogRatioClamp, kLogRatioClamp));
  const auto outside = (raw < o.clip_min).logical_or(raw > o.clip_max);
  const auto weights = bound == Bound::truncate ? raw.clamp(o.clip_min, o.clip_max)
                                                : torch::where(outside, torch::zeros_like(raw), raw);

  Metrics metrics;
  const auto active = mask.to(torch::kBool);
  const auto active_raw = raw.masked_select(active);
  const bool any = active_raw.numel() > 0;
  metrics["mismatch/k1"] = masked_mean(-diff, m);
  metrics["mismatch/k3"] =
      masked_mean(torch::exp(diff.clamp(-kLogRatioClamp, kLogRatioClamp)) - diff - 1.0, m);
  metrics["mismatch/is_ratio_mean"] = masked_mean(raw, m);
  metrics["mismatch/is_ratio_min"] = any ? active_raw.min() : torch::ones({}, m.options());
  metrics["mismatch/is_ratio_max"] = any ? active_raw.max() : torch::ones({}, m.options());
  metrics["mismatch/clipped_frac"] = masked_mean(outside, m);
  return {zero_outside_mask(weights, mask), metrics};
}

template <Level level, Bound bound>
RolloutCorrectionResult entry(const torch::Tensor& old_logprobs, const torch::Tensor& rollout_logprobs,
                              const torch::Tensor& mask, const RolloutCorrectionOptions& options) {
  return correct(old_logprobs, rollout_logprobs, mask, options, level, bound);
}

}  // namespace

Registry<RolloutCorrectionFn>& rollout_corrections() {
  static Registry<RolloutCorrectionFn> registry("rollout correction", {
      {"token_truncate", entry<Level::token, Bound::truncate>},
      {"token_mask", entry<Level::token, Bound::mask>},
      {"sequence_truncate", entry<Level::sequence, Bound::truncate>},
      {"sequence_mask", entry<Level::sequence, Bound::mask>},
  });
  return registry;
}

RolloutCorrectionResult rollout_correction(const std::string& name, const torch::Tensor& old_logprobs,
                                           const torch::Tensor& rollout_logprobs, const torch::Tensor& mask,
                                           const RolloutCorrectionOptions& options) {
  return rollout_corrections().get(name)(old_logprobs, rollout_logprobs, mask, options);
}

}  // namespace grpo::rl
