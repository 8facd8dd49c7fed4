// Acceptance check of the loss on a fixed batch against independent computations of TRL's
// `grpo` and `dapo` loss types and verl's `seq-mean-token-mean` and `seq-mean-token-sum-norm`
// aggregations. The references below are written from the published formulas
// (../shared/reference/grpo-algorithms.md §2.2, §2.3, §3.1, §3.2) with plain loops over doubles;
// they do not call anything under rl/. The code under test is reached only through the
// registries, by the names a config would use.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "rl/algorithms/actor_loss.h"
#include "rl/algorithms/advantages.h"

namespace grpo::rl {
namespace {

using Matrix = std::vector<std::vector<double>>;

// ---- The fixed batch: 2 prompts × G = 2 completions, T = 5, lengths 5, 3, 4, 2 (14 tokens). ----
// Padding holds arbitrary finite values. Log-ratios (logp - old) include clipped tokens above
// 1 + eps_high and below 1 - eps_low, and ratios e^1.5 and e^1.2 above the dual-clip c = 3 on
// completions whose advantage is negative.
constexpr int kN = 4, kT = 5, kG = 2;
const std::vector<float> kRewards = {1.0f, 0.0f, 0.5f, 2.0f};
const std::vector<std::vector<float>> kMask = {
    {1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 1, 1, 1, 0}, {1, 1, 0, 0, 0}};
const std::vector<std::vector<float>> kLogp = {{-0.5f, -1.2f, -0.3f, -2.0f, -0.8f},
                                               {-1.0f, -0.7f, -1.5f, -9.0f, -9.0f},
                                               {-0.2f, -0.9f, -1.1f, -0.6f, 0.0f},
                                               {-1.3f, -0.4f, 0.0f, 0.0f, 0.0f}};
const std::vector<std::vector<float>> kLogRatio = {{0.3f, -0.4f, 0.1f, 0.05f, -0.2f},
                                                   {1.5f, -0.1f, 0.2f, 0.0f, 0.0f},
                                                   {-0.3f, 0.25f, 1.2f, -0.05f, 0.0f},
                                                   {0.15f, -0.6f, 0.0f, 0.0f, 0.0f}};
const std::vector<std::vector<float>> kRefMinusLogp = {{0.1f, -0.2f, 0.05f, 0.3f, -0.1f},
                                                       {0.2f, 0.1f, -0.3f, 0.0f, 0.0f},
                                                       {-0.15f, 0.2f, 0.1f, 0.05f, 0.0f},
                                                       {0.4f, -0.25f, 0.0f, 0.0f, 0.0f}};
const std::vector<std::vector<float>> kEntropy = {{1.1f, 0.4f, 2.0f, 0.9f, 1.3f},
                                                  {0.2f, 0.8f, 1.5f, 7.0f, 7.0f},
                                                  {1.0f, 1.2f, 0.3f, 0.6f, 7.0f},
                                                  {0.5f, 2.2f, 7.0f, 7.0f, 7.0f}};

// old = logp - log_ratio and ref = logp + (ref - logp), rounded to float as the tensors will be.
std::vector<std::vector<float>> old_logp() {
  auto out = kLogp;
  for (int i = 0; i < kN; ++i)
    for (int t = 0; t < kT; ++t) out[i][t] = kLogp[i][t] - kLogRatio[i][t];
  return out;
}
std::vector<std::vector<float>> ref_logp() {
  auto out = kLogp;
  for (int i = 0; i < kN; ++i)
    for (int t = 0; t < kT; ++t) out[i][t] = kLogp[i][t] + kRefMinusLogp[i][t];
  return out;
}

Matrix to_double(const std::vector<std::vector<float>>& m) {
  Matrix out(m.size());
  for (size_t i = 0; i < m.size(); ++i) out[i].assign(m[i].begin(), m[i].end());
  return out;
}

// ---- Independent references. ----

// TRL: A = (r - mean_g) / (std_g + eps) with Bessel's std; `scale` false gives r - mean_g.
// verl grpo is the same formula (torch.std is unbiased) with eps 1e-6.
std::vector<double> reference_advantages(double eps, bool scale) {
  std::vector<double> a(kN);
  for (int g = 0; g < kN / kG; ++g) {
    double mean = 0.0, var = 0.0;
    for (int j = 0; j < kG; ++j) mean += kRewards[g * kG + j];
    mean /= kG;
    for (int j = 0; j < kG; ++j) var += std::pow(kRewards[g * kG + j] - mean, 2);
    const double std = std::sqrt(var / (kG - 1));
    for (int j = 0; j < kG; ++j) a[g * kG + j] = (kRewards[g * kG + j] - mean) / (scale ? std + eps : 1.0);
  }
  return a;
}

// TRL _compute_loss per-token loss: l = -min(r·A, clamp(r, 1-εl, 1+εh)·A) + β·k3.
Matrix trl_per_token(const std::vector<double>& adv, double eps_low, double eps_high, double beta) {
  const auto logp = to_double(kLogp), old = to_double(old_logp()), ref = to_double(ref_logp());
  Matrix l(kN, std::vector<double>(kT));
  for (int i = 0; i < kN; ++i)
    for (int t = 0; t < kT; ++t) {
      const double r = std::exp(logp[i][t] - old[i][t]);
      const double r2 = std::min(std::max(r, 1.0 - eps_low), 1.0 + eps_high);
      l[i][t] = -std::min(r * adv[i], r2 * adv[i]);
      const double d = ref[i][t] - logp[i][t];
      l[i][t] += beta * (std::exp(d) - d - 1.0);
    }
  return l;
}

// TRL loss_type="grpo": mean_i( Σ_t l·m / max(Σ_t m, 1) ).
double trl_grpo_loss(const Matrix& l) {
  double total = 0.0;
  for (int i = 0; i < kN; ++i) {
    double sum = 0.0, count = 0.0;
    for (int t = 0; t < kT; ++t) sum += l[i][t] * kMask[i][t], count += kMask[i][t];
    total += sum / std::max(count, 1.0);
  }
  return total / kN;
}

// TRL loss_type="dapo": Σ l·m / N_tok over the whole generation batch.
double trl_dapo_loss(const Matrix& l, double generation_batch_tokens) {
  double sum = 0.0;
  for (int i = 0; i < kN; ++i)
    for (int t = 0; t < kT; ++t) sum += l[i][t] * kMask[i][t];
  return sum / generation_batch_tokens;
}

// verl compute_policy_loss_vanilla per-token loss (log-ratio clamp ±20, clip, dual-clip c).
Matrix verl_pg_losses(const std::vector<double>& adv, double eps_low, double eps_high, double c) {
  const auto logp = to_double(kLogp), old = to_double(old_logp());
  Matrix l(kN, std::vector<double>(kT));
  for (int i = 0; i < kN; ++i)
    for (int t = 0; t < kT; ++t) {
      const double ratio = std::exp(std::min(std::max(logp[i][t] - old[i][t], -20.0), 20.0));
      const double l1 = -adv[i] * ratio;
      const double l2 = -adv[i] * std::min(std::max(ratio, 1.0 - eps_low), 1.0 + eps_high);
      const double clip1 = std::max(l1, l2);
      l[i][t] = adv[i] < 0 ? std::min(-adv[i] * c, clip1) : clip1;
    }
  return l;
}

// verl kl_penalty "low_var_kl": clamp(e^d - d - 1, ±10) with d = clamp(ref - logp, ±20).
Matrix verl_low_var_kl() {
  const auto logp = to_double(kLogp), ref = to_double(ref_logp());
  Matrix k(kN, std::vector<double>(kT));
  for (int i = 0; i < kN; ++i)
    for (int t = 0; t < kT; ++t) {
      const double d = std::min(std::max(ref[i][t] - logp[i][t], -20.0), 20.0);
      k[i][t] = std::min(std::max(std::exp(d) - d - 1.0, -10.0), 10.0);
    }
  return k;
}

// verl agg_loss "seq-mean-token-mean": Σ_i (Σ_t l·m / (Σ_t m + 1e-8)) / B.
double verl_seq_mean_token_mean(const Matrix& l) {
  double total = 0.0;
  for (int i = 0; i < kN; ++i) {
    double sum = 0.0, count = 0.0;
    for (int t = 0; t < kT; ++t) sum += l[i][t] * kMask[i][t], count += kMask[i][t];
    total += sum / (count + 1e-8);
  }
  return total / kN;
}

// verl agg_loss "seq-mean-token-sum-norm": Σ_i (Σ_t l·m / loss_scale_factor) / B.
double verl_seq_mean_token_sum_norm(const Matrix& l, double loss_scale_factor) {
  double total = 0.0;
  for (int i = 0; i < kN; ++i) {
    double sum = 0.0;
    for (int t = 0; t < kT; ++t) sum += l[i][t] * kMask[i][t];
    total += sum / loss_scale_factor;
  }
  return total / kN;
}

// ---- The code under test, reached by names. ----

torch::Tensor tensor_of(const std::vector<std::vector<float>>& m) {
  std::vector<float> flat;
  for (const auto& row : m) flat.insert(flat.end(), row.begin(), row.end());
  return torch::tensor(flat).view({kN, kT});
}

ActorLossInput batch_under_test(const std::string& estimator, const AdvantageOptions& adv) {
  ActorLossInput in;
  in.logprobs = tensor_of(kLogp).requires_grad_(true);
  in.old_logprobs = tensor_of(old_logp());
  in.ref_logprobs = tensor_of(ref_logp());
  in.entropy = tensor_of(kEntropy);
  in.mask = tensor_of(kMask);
  in.advantages = compute_advantages(estimator, torch::tensor(kRewards), adv).advantages;
  return in;
}

AdvantageOptions advantage_options(double eps, RewardScaling scaling) {
  AdvantageOptions o;
  o.group_size = kG;
  o.epsilon = eps;
  o.scaling = scaling;
  return o;
}

constexpr double kTolerance = 1e-6;

TEST(ReferenceLosses, TrlGrpoLossType) {
  // TRL: scale_rewards="group" (eps 1e-4), loss_type="grpo", β = .04 (k3), ε .2 / ε_high .28.
  const double expected = trl_grpo_loss(trl_per_token(reference_advantages(1e-4, true), 0.2, 0.28, 0.04));
  ActorLossOptions o;
  o.policy_loss = "ppo_clip";
  o.clip.epsilon_low = 0.2;
  o.clip.epsilon_high = 0.28;
  o.aggregation = "seq-mean-token-mean";
  o.kl_beta = 0.04;
  o.kl_estimator = "k3";
  auto in = batch_under_test("grpo", advantage_options(1e-4, RewardScaling::kGroup));
  in.entropy = torch::Tensor();
  EXPECT_NEAR(actor_loss(in, o).loss.item<double>(), expected, kTolerance);
}

TEST(ReferenceLosses, TrlDapoLossType) {
  // TRL: loss_type="dapo" normalises by the generation batch's active tokens (here 40, of which
  // this micro-batch holds 14); β = 0, ε .2 / .28.
  const double expected =
      trl_dapo_loss(trl_per_token(reference_advantages(1e-4, true), 0.2, 0.28, 0.0), 40.0);
  ActorLossOptions o;
  o.clip.epsilon_low = 0.2;
  o.clip.epsilon_high = 0.28;
  o.aggregation = "token-mean-global";
  o.aggregation_context.global_token_count = 40.0;
  auto in = batch_under_test("grpo", advantage_options(1e-4, RewardScaling::kGroup));
  EXPECT_NEAR(actor_loss(in, o).loss.item<double>(), expected, kTolerance);
}

TEST(ReferenceLosses, VerlSeqMeanTokenMean) {
  // verl: grpo advantages (eps 1e-6), vanilla loss with clip .2/.28 and clip_ratio_c 3,
  // use_kl_loss with low_var_kl (coef .001), entropy_coeff .01:
  //   loss = agg(pg) - .01·agg(entropy) + .001·agg(kl)
  const auto adv = reference_advantages(1e-6, true);
  Matrix entropy = to_double(kEntropy);
  const double expected = verl_seq_mean_token_mean(verl_pg_losses(adv, 0.2, 0.28, 3.0)) -
                          0.01 * verl_seq_mean_token_mean(entropy) +
                          0.001 * verl_seq_mean_token_mean(verl_low_var_kl());
  ActorLossOptions o;
  o.clip.epsilon_low = 0.2;
  o.clip.epsilon_high = 0.28;
  o.clip.dual_clip_c = 3.0;
  o.aggregation = "seq-mean-token-mean";
  o.kl_beta = 0.001;
  o.kl_estimator = "k3";
  o.entropy_coef = 0.01;
  auto in = batch_under_test("grpo", advantage_options(1e-6, RewardScaling::kGroup));
  EXPECT_NEAR(actor_loss(in, o).loss.item<double>(), expected, kTolerance);
}

TEST(ReferenceLosses, VerlSeqMeanTokenSumNormIsDrGrpo) {
  // verl Dr. GRPO: norm_adv_by_std_in_grpo=False, loss_agg_mode=seq-mean-token-sum-norm with a
  // constant loss_scale_factor (8 > the padded length 5), no KL, dual clip c = 3.
  const double expected =
      verl_seq_mean_token_sum_norm(verl_pg_losses(reference_advantages(1e-6, false), 0.2, 0.2, 3.0), 8.0);
  ActorLossOptions o;
  o.clip.dual_clip_c = 3.0;
  o.aggregation = "seq-mean-token-sum-norm";
  o.aggregation_context.max_completion_length = 8.0;
  auto in = batch_under_test("grpo", advantage_options(1e-6, RewardScaling::kNone));
  in.entropy = torch::Tensor();
  in.ref_logprobs = torch::Tensor();
  EXPECT_NEAR(actor_loss(in, o).loss.item<double>(), expected, kTolerance);
}

TEST(ReferenceLosses, TheBatchExercisesEveryClipRegion) {
  // Guards the fixture: if edits made every ratio unclipped, the tests above would prove less.
  ActorLossOptions o;
  o.clip.epsilon_high = 0.28;
  o.clip.dual_clip_c = 3.0;
  auto out = actor_loss(batch_under_test("grpo", advantage_options(1e-6, RewardScaling::kGroup)), o);
  EXPECT_GT(out.metrics.at("actor/clip_frac_high").item<float>(), 0.0f);
  EXPECT_GT(out.metrics.at("actor/clip_frac_low").item<float>(), 0.0f);
  EXPECT_GT(out.metrics.at("actor/clip_frac_dual").item<float>(), 0.0f);
}

}  // namespace
}  // namespace grpo::rl
