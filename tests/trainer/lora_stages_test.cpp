// policy.lora in `grpo sft` and `grpo distill`: only the adapters train (the final merged model
// keeps every untargeted base tensor bit for bit), checkpoints hold PEFT-format adapters, and the
// final directory holds the merged model beside final/adapter. GRPO's LoRA run is tested through
// the binary (tests/cli/lora_cli_test.cpp).
#include <gtest/gtest.h>

#include "core/run_store.h"
#include "model/io/safetensors.h"
#include "rl/trainer/distill_trainer.h"
#include "rl/trainer/sft_trainer.h"
#include "tests/trainer/tiny_world.h"

namespace fs = std::filesystem;
using namespace grpo;

namespace {

std::string base_yaml(const grpo::testing::TinyWorld& w) {
  return "run: {seed: 5, device: cpu, dtype: float32, log_level: warn, threads: 1}\n"
         "policy: {path: " + w.random_student.string() + ", template: raw,"
         " lora: {targets: [q_proj, v_proj, gate_proj], rank: 4, alpha: 8}}\n"
         "data: {train: {path: " + w.train_jsonl.string() + "}}\n"
         "rollout: {max_new_tokens: 8, temperature: 1.0, max_batch_sequences: 64}\n"
         "rewards: [{name: math_accuracy, weight: 1.0}]\n"
         "optim: {lr: 0.01}\n";
}

rl::RunRequest request_for(const ExperimentConfig& cfg, const fs::path& run_dir) {
  rl::RunRequest request;
  request.run_dir = run_dir.string();
  auto copy = cfg;
  request.config_text = config::to_yaml(copy);
  return request;
}

// The merged final model against the base: untargeted tensors equal, targeted ones moved.
void expect_only_targets_changed(const fs::path& final_dir, const fs::path& base_dir) {
  auto merged = model::SafetensorsFile::open(final_dir / "model.safetensors");
  auto base = model::SafetensorsFile::open(base_dir / "model.safetensors");
  int64_t changed = 0;
  for (const auto& e : base->entries()) {
    const bool targeted = e.name.find("q_proj.weight") != std::string::npos ||
                          e.name.find("v_proj.weight") != std::string::npos ||
                          e.name.find("gate_proj.weight") != std::string::npos;
    const bool same = torch::equal(merged->tensor(e.name), base->tensor(e.name));
    if (!targeted) {
      EXPECT_TRUE(same) << e.name << " is frozen but changed";
    }
    changed += same ? 0 : 1;
  }
  EXPECT_GT(changed, 0);
  EXPECT_TRUE(fs::exists(final_dir / "adapter" / "adapter_model.safetensors"));
}

}  // namespace

TEST(LoraStages, SftTrainsOnlyTheAdaptersAndCheckpointsThem) {
  const auto& w = grpo::testing::tiny_world();
  const auto dir = grpo::testing::fresh_dir("lora-sft");
  const auto cfg = grpo::testing::load_yaml(dir, "sft.yaml", base_yaml(w) +
      "sft: {batch_size: 16, max_length: 32, max_steps: 4}\ntrain: {save_every: 2}\n",
      {"data.train.path=" + (w.root / "teacher_train.jsonl").string()});  // the records with responses
  const fs::path run = rl::run_sft(cfg, request_for(cfg, dir / "run"));
  EXPECT_TRUE(fs::exists(run / "checkpoints" / "step-4" / "adapter_config.json"));
  EXPECT_FALSE(fs::exists(run / "checkpoints" / "step-4" / "model.safetensors"));
  expect_only_targets_changed(run / "final", w.random_student);
}

TEST(LoraStages, OnPolicyDistillationTrainsOnlyTheAdapters) {
  const auto& w = grpo::testing::tiny_world();
  const auto dir = grpo::testing::fresh_dir("lora-distill");
  const auto cfg = grpo::testing::load_yaml(dir, "distill.yaml", base_yaml(w) +
      "distill: {mode: on_policy_kl, teacher: " + w.teacher.string() + ", prompts_per_step: 4, samples_per_prompt: 2}\n"
      "train: {steps: 2, save_every: 0, eval_every: 0}\n");
  const fs::path run = rl::run_distill(cfg, request_for(cfg, dir / "run"));
  RunStoreReader store((run / "run.db").string());
  EXPECT_EQ(store.metric_series("distill/reverse_kl").size(), 2u);
  expect_only_targets_changed(run / "final", w.random_student);
}
