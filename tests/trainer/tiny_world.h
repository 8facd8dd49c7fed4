// A tiny, fast world for the trainer tests: a copy task ("copy 4 7 2 =" -> "<answer>472</answer>",
// checked by math_accuracy on the answer tag), a 2-layer Qwen2-shaped config.json, config YAML
// written into a temp directory and loaded through the real loader, and (built once per test
// binary, on first use) a noisy teacher: a model trained from scratch by `run_sft` on responses
// of which a quarter are deliberately wrong, so that at temperature 1 it is right only part of
// the time and a reward filter has something to drop.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "datasets/record.h"
#include "rl/experiment/experiment_config.h"
#include "policy/policy_bundle.h"

namespace grpo::testing {

// A fresh directory under the system temp dir, unique to this process and `name`.
std::filesystem::path fresh_dir(const std::string& name);

// `count` distinct copy problems of three digits 1..9 from the half of the problem space
// chosen by `held_out` (train and held-out sets never share a prompt). Deterministic.
std::vector<datasets::Record> copy_records(int64_t count, bool held_out, uint64_t seed);

// The tiny model's config.json (vocab 320, hidden 64, 2 layers) written into `dir`.
std::filesystem::path write_tiny_config(const std::filesystem::path& dir);

// Writes `yaml` to dir/name and loads it with `overrides` (the full loader: defaults, checks).
ExperimentConfig load_yaml(const std::filesystem::path& dir, const std::string& name, const std::string& yaml,
                           const std::vector<std::string>& overrides = {});

// The shared noisy teacher and its data.
struct TinyWorld {
  std::filesystem::path root;
  std::filesystem::path train_jsonl;   // 300 problems, with clean `response` fields
  std::filesystem::path eval_jsonl;    // 60 held-out problems
  std::filesystem::path teacher;       // HF directory (teacher-run/final)
  std::filesystem::path random_student;  // same config and tokenizer, random weights, never trained
};
const TinyWorld& tiny_world();

// Loads a HF directory as the tests use policies: raw template, CPU, float32.
policy::PolicyBundle load_raw_policy(const std::filesystem::path& dir);

// pass@1 of `policy` on the world's eval set: 4 samples per prompt at temperature 1, scored by
// math_accuracy.
double eval_pass_at_1(const policy::PolicyBundle& policy, uint64_t seed);

}  // namespace grpo::testing
