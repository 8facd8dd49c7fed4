// PPO-clip at token or sequence level, with clip-higher and dual-clip (see policy_loss.h).
#include "rl/algorithms/policy_loss.h"

#include "core/error.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

enum class RatioLevel { token, sequence };

void check_options(const PolicyLossOptions& o) {
  require(o.epsilon_low >= 0.0 && o.epsilon_low < 1.0,
          "epsilon_low: expected a value in [0, 1), got " + std::to_string(o.epsilon_low));
  require(o.epsilon_high >= 0.0,
          "epsilon_high: expected a value >= 0, got " + std::to_string(o.epsilon_high));
  require(o.dual_clip_c == 0.0 || o.dual_clip_c > 1.0,
          "dual_clip_c: expected 0 (off) or a value > 1, got " + std::to_string(o.dual_clip_c));
  require(o.log_ratio_clamp > 0.0, "log_ratio_clamp: expected a value > 0");
}

PerTokenLoss clipped_loss(const PolicyLossInput& in, const PolicyLossOptions& o, RatioLevel level) {
  check_options(o);
  const auto adv = checked_advantages(in);
  const auto m = float_mask(in.mask);
  auto log_ratio = (in.logprobs - in.old_logprobs).clamp(-o.log_ratio_clamp, o.log_ratio_clamp);
  const auto token_log_ratio = log_ratio;
  if (level == RatioLevel::sequence)
    log_ratio = (zero_outside_mask(log_ratio, m).sum(1, true) / m.sum(1, true).clamp_min(1.0)).expand_as(m);
  const auto ratio = torch::exp(log_ratio);

  const auto unclipped = -adv * ratio;
  const auto clipped = -adv * ratio.clamp(1.0 - o.epsilon_low, 1.0 + o.epsilon_high);
  auto loss = torch::max(unclipped, clipped);
  const auto negative = (adv < 0).expand_as(m);

  Metrics metrics;
  const auto r = ratio.detach();
  metrics["actor/clip_frac_low"] = masked_mean((r < 1.0 - o.epsilon_low).logical_and(negative), m);
  metrics["actor/clip_frac_high"] = masked_mean((r > 1.0 + o.epsilon_high).logical_and(adv > 0), m);
  if (o.dual_clip_c > 0.0) {
    const auto bound = -adv * o.dual_clip_c;
    metrics["actor/clip_frac_dual"] = masked_mean((r > o.dual_clip_c).logical_and(negative), m);
    loss = torch::where(negative, torch::min(loss, bound.expand_as(loss)), loss);
  } else {
    metrics["actor/clip_frac_dual"] = torch::zeros({}, m.options());
  }
  metrics["actor/ppo_kl"] = masked_mean(-token_log_ratio.detach(), m);
  return {loss, metrics};
}

}  // namespace

torch::Tensor checked_advantages(const PolicyLossInput& in) {
  require_rank(in.logprobs, 2, "logprobs");
  require_floating(in.logprobs, "logprobs");
  require_shape(in.old_logprobs, in.logprobs.sizes(), "old_logprobs");
  require_shape(in.mask, in.logprobs.sizes(), "mask");
  require_defined(in.advantages, "advantages");
  const int64_t n = in.logprobs.size(0);
  if (in.advantages.dim() == 1) {
    require_shape(in.advantages, {n}, "advantages");
    return in.advantages.detach().to(torch::kFloat32).unsqueeze(1);
  }
  require_shape(in.advantages, in.logprobs.sizes(), "advantages");
  return in.advantages.detach().to(torch::kFloat32);
}

PerTokenLoss ppo_clip_loss(const PolicyLossInput& input, const PolicyLossOptions& options) {
  return clipped_loss(input, options, RatioLevel::token);
}

PerTokenLoss gspo_loss(const PolicyLossInput& input, const PolicyLossOptions& options) {
  return clipped_loss(input, options, RatioLevel::sequence);
}

Registry<PolicyLossFn>& policy_losses() {
  static Registry<PolicyLossFn> registry("policy loss", {
      {"ppo_clip", ppo_clip_loss},
      {"gspo", gspo_loss},
  });
  return registry;
}

}  // namespace grpo::rl
