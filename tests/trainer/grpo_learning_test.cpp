// GRPO learns, end to end through run_grpo: the tiny_world noisy teacher (a quarter of its
// training answers were wrong, so at temperature 1 it copies correctly only part of the time)
// is trained with math_accuracy as the only reward, and its held-out pass@1 (4 samples per
// unseen prompt, temperature 1) rises well above where it started. A sign error, a shifted
// log-prob, advantages applied to the wrong rows or a loss mask off by one all fail this.
#include <gtest/gtest.h>

#include "core/config/config_io.h"
#include "rl/trainer/grpo_trainer.h"
#include "tests/trainer/tiny_world.h"

namespace fs = std::filesystem;
using namespace grpo;

TEST(GrpoLearning, NoisyTeacherImprovesOnHeldOutPrompts) {
  const auto& w = grpo::testing::tiny_world();
  const auto dir = grpo::testing::fresh_dir("grpo-learns");
  const auto cfg = grpo::testing::load_yaml(dir, "rl.yaml",
      "run: {seed: 3, device: cpu, dtype: float32, log_level: warn, threads: 1}\n"
      "policy: {path: " + w.teacher.string() + ", template: raw}\n"
      "data: {train: {path: " + w.train_jsonl.string() + "}}\n"
      "rollout: {max_new_tokens: 8, temperature: 1.0, max_batch_sequences: 128}\n"
      "rewards: [{name: math_accuracy, weight: 1.0}]\n"
      "rl: {group_size: 8, batch_size: 128, micro_batch_size: 128}\n"
      "optim: {lr: 0.001, warmup_steps: 3, max_grad_norm: 1.0}\n"
      "train: {steps: 40, save_every: 0, log_samples: 0}\n");
  rl::RunRequest request;
  request.run_dir = (dir / "run").string();
  auto copy = cfg;
  request.config_text = config::to_yaml(copy);
  const fs::path run = rl::run_grpo(cfg, request);

  const double before = grpo::testing::eval_pass_at_1(grpo::testing::load_raw_policy(w.teacher), 11);
  const double after = grpo::testing::eval_pass_at_1(grpo::testing::load_raw_policy(run / "final"), 11);
  std::cout << "[grpo learning] held-out pass@1 " << before << " -> " << after << "\n";
  // Measured 0.446 -> 0.792 in 40 steps (CPU, LibTorch 1.13, an AVX-512 Xeon); the margins leave
  // room for other BLAS/RNG paths.
  EXPECT_GE(after, before + 0.2);
  EXPECT_GE(after, 0.7);
}
