// Model text that is not UTF-8, end to end on a randomly initialized tiny policy with a byte-level
// BPE tokenizer (its byte tokens decode to U+FFFD often): a GRPO run whose math_accuracy reasons cut a multi-byte
// reference answer at 40 bytes (the cut that ended a real run at step 22 with
// type_error.316) logs every sample, keeps their ids, reports no dropped sample and finishes;
// `grpo generate`, `grpo eval --output` and distillation's JSONL and logged teacher samples
// hold valid UTF-8 with the ids that decode to the text.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iostream>

#include "core/config/config_io.h"
#include "core/run_store.h"
#include "core/text/utf8.h"
#include "datasets/record.h"
#include "model/io/model_io.h"
#include "model/tokenizer/bpe_trainer.h"
#include "rl/trainer/distill_trainer.h"
#include "rl/trainer/grpo_trainer.h"
#include "tests/common/run_command.h"
#include "tests/trainer/tiny_world.h"

namespace fs = std::filesystem;
using namespace grpo;

namespace {

// 14 euro signs: 42 bytes, so a 40-byte quote ends inside the 14th.
const std::string kEuroAnswer = [] {
  std::string s;
  for (int i = 0; i < 14; ++i) s += "\xE2\x82\xAC";
  return s;
}();

fs::path run_with(const std::function<std::string(const ExperimentConfig&, const rl::RunRequest&)>& stage,
                  const ExperimentConfig& cfg, const fs::path& run_dir) {
  rl::RunRequest request;
  request.run_dir = run_dir.string();
  auto copy = cfg;
  request.config_text = config::to_yaml(copy);
  return stage(cfg, request);
}

// A policy that was never trained, built once per test binary: the tiny world's config.json,
// a 320-token byte-level BPE learned from the copy task's text, and an explicit end token.
const fs::path& random_policy() {
  static const fs::path dir = [] {
    const auto src = grpo::testing::fresh_dir("utf8-policy-source");
    grpo::testing::write_tiny_config(src);
    std::vector<std::string> corpus;
    for (const auto& r : grpo::testing::copy_records(300, false, 1))
      corpus.push_back(r.prompt + " <answer>" + r.answer + "</answer>");
    BpeTrainerOptions bo;
    bo.vocab_size = 320;
    write_byte_level_bpe((src / "tokenizer.json").string(), corpus, bo);
    std::ofstream(src / "tokenizer_config.json") << R"({"eos_token": "<|endoftext|>"})";
    std::ofstream(src / "generation_config.json") << R"({"eos_token_id": 0})";
    model::CausalLM policy(model::load_model_config(src));
    model::init_weights(policy, 17);
    model::SaveOptions so;
    so.source_dir = src;
    const auto out = grpo::testing::fresh_dir("utf8-policy");
    model::save_model(policy, out, so);
    return out;
  }();
  return dir;
}

fs::path euro_answer_data(const fs::path& dir, int64_t count) {
  auto records = grpo::testing::copy_records(count, false, 5);
  for (auto& r : records) r.answer = kEuroAnswer;
  const auto path = dir / "euro.jsonl";
  datasets::write_jsonl(path.string(), records);
  return path;
}

// Every line of a JSONL file, checked to be valid UTF-8 and parsed.
std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_TRUE(is_valid_utf8(line)) << path;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace

TEST(SampleLogging, RunWhoseReasonsCutCharactersLogsEverySampleAndFinishes) {
  const auto dir = grpo::testing::fresh_dir("utf8-samples");
  const auto data = euro_answer_data(dir, 16);
  const auto cfg = grpo::testing::load_yaml(dir, "rl.yaml",
      "run: {seed: 4, device: cpu, dtype: float32, log_level: warn, threads: 1}\n"
      "policy: {path: " + random_policy().string() + ", template: raw}\n"
      "data: {train: {path: " + data.string() + "}}\n"
      "rollout: {max_new_tokens: 16, temperature: 1.0, max_batch_sequences: 16}\n"
      "rewards: [{name: math_accuracy, weight: 1.0}]\n"
      "rl: {group_size: 4, batch_size: 16, micro_batch_size: 16}\n"
      "train: {steps: 2, save_every: 0, log_samples: 16}\n");
  const fs::path run = run_with(rl::run_grpo, cfg, dir / "run");

  RunStoreReader store((run / "run.db").string());
  EXPECT_EQ(store.meta("status").value_or(""), "finished");
  const auto policy = grpo::testing::load_raw_policy(random_policy());
  const auto samples = store.samples(1, 2, 100);
  ASSERT_EQ(samples.size(), 32u);
  size_t cut_reasons = 0;
  for (const auto& s : samples) {
    const auto ids = s.extra.at("completion_ids").get<std::vector<int64_t>>();
    EXPECT_EQ(s.completion, to_valid_utf8(policy.decode(ids, /*skip_special_tokens=*/true)));
    EXPECT_TRUE(is_valid_utf8(s.completion));
    const auto reason = s.extra.at("reasons").at("math_accuracy").get<std::string>();
    EXPECT_TRUE(is_valid_utf8(reason));
    cut_reasons += reason.find("\xEF\xBF\xBD...'") != std::string::npos;
  }
  // The 40-byte quote of the reference ends inside its 14th euro sign whenever an answer is found.
  std::cout << "[sample logging] " << cut_reasons << " of " << samples.size() << " reasons quote the cut reference\n";
  const auto dropped = store.metric_series("log/samples_dropped");
  ASSERT_EQ(dropped.size(), 2u);
  for (const auto& p : dropped) EXPECT_EQ(p.value, 0.0);
}

TEST(SampleLogging, GenerateAndEvalWriteValidTextWithTheIdsThatDecodeToIt) {
  const auto dir = grpo::testing::fresh_dir("utf8-cli");
  const auto data = euro_answer_data(dir, 8);
  std::ofstream(dir / "prompts.jsonl") << "{\"prompt\": \"copy 1 2 3 =\"}\n{\"prompt_ids\": [5, 200, 17]}\n";
  const std::string bin = GRPO_BIN;
  const auto gen = grpo::testing::run_command(bin + " generate --model " + random_policy().string() + " --input " +
                                              (dir / "prompts.jsonl").string() + " --output " +
                                              (dir / "gen.jsonl").string() +
                                              " --n 8 --max-new-tokens 24 --temperature 1 --seed 2 --threads 1");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const auto eval = grpo::testing::run_command(bin + " eval --model " + random_policy().string() + " --data " +
                                               data.string() + " --reward math_accuracy --k 2 --temperature 1 " +
                                               "--template raw --max-new-tokens 24 --threads 1 --output " +
                                               (dir / "eval.jsonl").string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;

  const auto policy = grpo::testing::load_raw_policy(random_policy());
  const auto generated = read_jsonl(dir / "gen.jsonl");
  const auto evaluated = read_jsonl(dir / "eval.jsonl");
  ASSERT_EQ(generated.size(), 16u);
  ASSERT_EQ(evaluated.size(), 16u);
  size_t replaced = 0;
  for (const auto* file : {&generated, &evaluated})
    for (const auto& record : *file) {
      const auto text = record.at("completion").get<std::string>();
      const auto ids = record.at("completion_ids").get<std::vector<int64_t>>();
      EXPECT_EQ(text, to_valid_utf8(policy.decode(ids, /*skip_special_tokens=*/true)));
      replaced += text.find("\xEF\xBF\xBD") != std::string::npos;
    }
  EXPECT_GT(replaced, 0u) << "no completion held a replaced byte: the random student was not random enough";
}

TEST(SampleLogging, DistillJsonlAndTeacherSamplesKeepTheTeachersIds) {
  const auto dir = grpo::testing::fresh_dir("utf8-distill");
  const auto data = euro_answer_data(dir, 8);
  // The random student as the teacher, keeping every sample (min_reward 0), so that the kept
  // responses hold its replaced bytes; one SFT epoch on them.
  const auto cfg = grpo::testing::load_yaml(dir, "distill.yaml",
      "run: {seed: 6, device: cpu, dtype: float32, log_level: warn, threads: 1}\n"
      "policy: {path: " + random_policy().string() + ", template: raw}\n"
      "data: {train: {path: " + data.string() + "}}\n"
      "rollout: {max_new_tokens: 16, temperature: 1.0, max_batch_sequences: 32}\n"
      "rewards: [{name: math_accuracy, weight: 1.0}]\n"
      "distill: {mode: sft, teacher: " + random_policy().string() +
      ", samples_per_prompt: 2, min_reward: 0, keep_truncated: true}\n"
      "sft: {epochs: 1, batch_size: 16, max_length: 32}\n"
      "train: {save_every: 0, log_samples: 16}\n");
  const fs::path run = run_with(rl::run_distill, cfg, dir / "run");

  const auto policy = grpo::testing::load_raw_policy(random_policy());
  const auto lines = read_jsonl(run / "distill_data.jsonl");
  ASSERT_EQ(lines.size(), 16u);
  for (const auto& line : lines) {
    const auto ids = line.at("distill").at("completion_ids").get<std::vector<int64_t>>();
    EXPECT_EQ(line.at("response").get<std::string>(), to_valid_utf8(policy.decode(ids, /*skip_special_tokens=*/true)));
    EXPECT_EQ(line.at("distill").at("tokens").get<size_t>(), ids.size());
  }
  RunStoreReader store((run / "run.db").string());
  const auto logged = store.samples(0, 0, 100);
  ASSERT_EQ(logged.size(), 16u);
  for (const auto& s : logged) {
    const auto ids = s.extra.at("completion_ids").get<std::vector<int64_t>>();
    EXPECT_EQ(s.completion, to_valid_utf8(policy.decode(ids, /*skip_special_tokens=*/true)));
  }
}
