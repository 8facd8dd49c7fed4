// LoRA through the `grpo` binary: a GRPO run with policy.lora (and a KL term, whose reference is
// the policy with its adapters off) checkpoints PEFT-format adapters instead of the model, resumes
// from them exactly, writes the merged model as final/, and `grpo model merge` reproduces it. Its
// rollouts run on the engine's merged copy (the default) or the adapters in the decode path
// (policy.lora.rollout adapters), with the same completions and log-probs up to float32 rounding.
// A DeepSeek-shaped policy trains adapters on its shared and routed experts and kv_b_proj alike.
// Everything is made in the test: data, tokenizer, tiny policies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "model/io/safetensors.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

std::string config_yaml(const fs::path& root, int steps) {
  return "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
         "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
         "  lora: {targets: [q_proj, v_proj, down_proj], rank: 4, alpha: 8}\n"
         "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n"
         "rollout:\n  max_new_tokens: 6\n  max_batch_sequences: 16\n"
         "rewards:\n  - name: math_accuracy\n  - name: format\n    weight: 0.5\n    params: {mode: lenient}\n"
         "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 8\n  kl_beta: 0.05\n  entropy_coef: 0.01\n"
         "optim:\n  lr: 0.01\n"
         "train:\n  steps: " + std::to_string(steps) + "\n  save_every: 2\n  keep_last: 3\n";
}

// Every logged metric but wall-clock and memory figures, as (name, step) -> value.
std::map<std::pair<std::string, int64_t>, double> step_metrics(const fs::path& run) {
  grpo::RunStoreReader store((run / "run.db").string());
  std::map<std::pair<std::string, int64_t>, double> values;
  for (const auto& name : store.metric_names()) {
    const bool timing = name.rfind("time/", 0) == 0 || name.rfind("perf/", 0) == 0 || name.rfind("memory/", 0) == 0;
    if (!timing)
      for (const auto& point : store.metric_series(name)) values[{name, point.step}] = point.value;
  }
  return values;
}

// Every logged completion's token ids, in (step, prompt, sample) order.
std::vector<std::vector<int64_t>> logged_completions(const fs::path& run) {
  grpo::RunStoreReader store((run / "run.db").string());
  std::vector<std::vector<int64_t>> out;
  for (const auto& s : store.samples(0, 1000, 1000)) out.push_back(s.extra.at("completion_ids").get<std::vector<int64_t>>());
  return out;
}

// `dense_policy`'s tokenizer with a 2-layer DeepSeek-V2-shaped model (layer 1: 8 routed experts,
// top 2, and a shared expert).
void make_tiny_moe_policy(const fs::path& dir, const fs::path& dense_policy) {
  const nlohmann::json cfg = {
      {"architectures", {"DeepseekV2ForCausalLM"}}, {"model_type", "deepseek_v2"}, {"hidden_size", 32},
      {"intermediate_size", 48}, {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 4},
      {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-6}, {"vocab_size", 300}, {"eos_token_id", 0},
      {"kv_lora_rank", 16}, {"q_lora_rank", nullptr}, {"qk_nope_head_dim", 8}, {"qk_rope_head_dim", 4},
      {"v_head_dim", 8}, {"n_routed_experts", 8}, {"n_shared_experts", 1}, {"num_experts_per_tok", 2},
      {"moe_intermediate_size", 16}, {"first_k_dense_replace", 1}, {"topk_method", "greedy"}};
  grpo::model::CausalLM model(grpo::model::parse_model_config(cfg));
  grpo::model::init_weights(model, 3);
  grpo::model::SaveOptions so;
  so.source_dir = dense_policy;  // its tokenizer files
  grpo::model::save_model(model, dir, so);
}

void expect_same_tensors(const fs::path& a_file, const fs::path& b_file) {
  auto a = grpo::model::SafetensorsFile::open(a_file), b = grpo::model::SafetensorsFile::open(b_file);
  ASSERT_EQ(a->entries().size(), b->entries().size());
  for (const auto& e : a->entries()) EXPECT_TRUE(torch::equal(a->tensor(e.name), b->tensor(e.name))) << e.name;
}

}  // namespace

// A run root with an arithmetic training set and a tiny policy trained on nothing.
class LoraCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("grpo_lora_cli_" + std::to_string(::getpid()));
    grpo::remove_tree(root_);
    fs::create_directories(root_);
    const auto data = run_command(kGrpo + " data generate --task arithmetic --difficulty easy --seed 1 --n 32 --output " +
                                  (root_ / "train.jsonl").string());
    ASSERT_EQ(data.exit_code, 0) << data.output;
    grpo::testing::make_tiny_policy(root_ / "policy", {"What is 2 + 5? Answer with the integer.", "<answer>7</answer>"});
  }
  void TearDown() override { grpo::remove_tree(root_); }
  // `grpo rl` of a config with `steps` steps into root/run_name; extra: appended arguments.
  grpo::testing::CommandResult rl(int steps, const std::string& run_name, const std::string& extra = "") {
    const auto config = root_ / ("rl-" + std::to_string(steps) + ".yaml");
    std::ofstream(config) << config_yaml(root_, steps);
    return run_command(kGrpo + " rl " + config.string() + " --run-dir " + (root_ / run_name).string() + extra);
  }
  fs::path root_;
};

TEST_F(LoraCli, GrpoCheckpointsAdaptersResumesExactlyAndMergesTheFinalModel) {
  const auto whole = rl(4, "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const fs::path step4 = root_ / "whole" / "checkpoints" / "step-4";
  EXPECT_TRUE(fs::exists(step4 / "adapter_config.json"));
  EXPECT_TRUE(fs::exists(step4 / "adapter_model.safetensors"));
  EXPECT_FALSE(fs::exists(step4 / "model.safetensors"));  // the adapters, not the model
  // Training moved B away from zero (the entropy bonus has a gradient whatever the rewards).
  auto adapter = grpo::model::SafetensorsFile::open(step4 / "adapter_model.safetensors");
  EXPECT_GT(adapter->tensor("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").abs().max().item<double>(), 0);

  // The same run stopped after its step-2 checkpoint, then resumed to step 4.
  const auto first = rl(2, "cut");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto resumed = rl(4, "cut", " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(step_metrics(root_ / "whole"), step_metrics(root_ / "cut"));
  expect_same_tensors(step4 / "adapter_model.safetensors", root_ / "cut" / "checkpoints" / "step-4" / "adapter_model.safetensors");

  // final/ is the merged model, final/adapter the adapters; `grpo model merge` gives the same weights.
  EXPECT_TRUE(fs::exists(root_ / "whole" / "final" / "adapter" / "adapter_config.json"));
  const auto merged = run_command(kGrpo + " model merge " + (root_ / "policy").string() + " " + step4.string() + " " +
                                  (root_ / "merged").string());
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  EXPECT_TRUE(fs::exists(root_ / "merged" / "tokenizer.json"));
  expect_same_tensors(root_ / "whole" / "final" / "model.safetensors", root_ / "merged" / "model.safetensors");
}

TEST_F(LoraCli, MoePolicyTrainsExpertAdaptersResumesExactlyAndMerges) {
  make_tiny_moe_policy(root_ / "moe", root_ / "policy");
  const std::string moe = " policy.path=" + (root_ / "moe").string() +
                          " 'policy.lora.targets=[q_proj, kv_b_proj, gate_proj, experts.gate_proj, experts.up_proj,"
                          " experts.down_proj]'";
  const auto whole = rl(4, "moe-whole", moe);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const fs::path step4 = root_ / "moe-whole" / "checkpoints" / "step-4";
  auto adapter = grpo::model::SafetensorsFile::open(step4 / "adapter_model.safetensors");
  double moved = 0;  // training moved some expert's B away from zero (not every expert gets tokens)
  for (int e = 0; e < 8; ++e)
    moved += adapter->tensor("base_model.model.model.layers.1.mlp.experts." + std::to_string(e) + ".up_proj.lora_B.weight")
                 .abs().max().item<double>();
  EXPECT_GT(moved, 0);
  EXPECT_GT(adapter->tensor("base_model.model.model.layers.1.mlp.shared_experts.gate_proj.lora_B.weight")
                .abs().max().item<double>(), 0);

  const auto first = rl(2, "moe-cut", moe);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto resumed = rl(4, "moe-cut", moe + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(step_metrics(root_ / "moe-whole"), step_metrics(root_ / "moe-cut"));
  expect_same_tensors(step4 / "adapter_model.safetensors",
                      root_ / "moe-cut" / "checkpoints" / "step-4" / "adapter_model.safetensors");

  const auto merged = run_command(kGrpo + " model merge " + (root_ / "moe").string() + " " + step4.string() + " " +
                                  (root_ / "moe-merged").string());
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  expect_same_tensors(root_ / "moe-whole" / "final" / "model.safetensors", root_ / "moe-merged" / "model.safetensors");
}

TEST_F(LoraCli, MergedRolloutMatchesAdaptersInTheDecodePath) {
  // Step 1 samples from the base (B = 0); steps 2 and 3 from adapters that training moved.
  const auto adapters = rl(3, "adapters", " policy.lora.rollout=adapters train.log_samples=8");
  ASSERT_EQ(adapters.exit_code, 0) << adapters.output;
  const auto merged = rl(3, "merged", " train.log_samples=8");  // merged is the default
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  const auto completions = logged_completions(root_ / "merged");
  EXPECT_EQ(completions.size(), 24u);  // 8 per step: every completion
  EXPECT_EQ(completions, logged_completions(root_ / "adapters"));
  // The same completions, so the same rewards and losses; the rollout's log-probs (which the loss
  // takes as its old log-probs) differ from the adapters' by float32 rounding of the merge alone.
  const auto with_adapters = step_metrics(root_ / "adapters"), with_merge = step_metrics(root_ / "merged");
  ASSERT_EQ(with_adapters.size(), with_merge.size());
  for (const auto& [key, value] : with_adapters) {
    const double other = with_merge.at(key);
    EXPECT_NEAR(value, other, 1e-4 * (1.0 + std::abs(value))) << key.first << " at step " << key.second;
  }
  for (int64_t step = 1; step <= 3; ++step) EXPECT_LT(with_merge.at({"mismatch/abs_logp_max", step}), 1e-4) << step;
}

TEST_F(LoraCli, UnknownRolloutModeNamesTheKeyAndTheChoices) {
  const auto r = rl(1, "bad-rollout", " policy.lora.rollout=fused");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("policy.lora.rollout must be merged or adapters, got 'fused'"), std::string::npos) << r.output;
}

TEST_F(LoraCli, TargetMatchingNoLayerFailsListingTheLayers) {
  const auto r = rl(1, "bad", " 'policy.lora.targets=[q_proj, attn]'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("policy.lora.targets: 'attn' matches no linear layer of this model; its layers are: "
                          "down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj"),
            std::string::npos)
      << r.output;
}
