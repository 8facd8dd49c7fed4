// A real pretrained policy end to end on the CPU: SmolLM2-135M-Instruct imported from its GGUF
// by `grpo model import` (scripts/fetch-real-model). Expectations come from transformers reading
// the same GGUF itself (bench/parity/gguf_reference.py, run on the GPU machine; its outputs are
// data/smollm2-135m-instruct/): the logits, the tokenizer's ids, the model's own chat template,
// and greedy continuations that stop where generate() stops, stop token included. Then two GRPO
// steps at temperature 2 (text that is often not UTF-8) must run, log every sample and render a
// report. Every test skips with a message when the imported model is absent (no network).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/filesystem.h"
#include "core/sqlite.h"
#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "policy/policy_bundle.h"
#include "rollout/engine.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;

namespace {

const fs::path kReference = fs::path(GRPO_SOURCE_DIR) / "tests/realmodel/data/smollm2-135m-instruct";
constexpr const char* kSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

fs::path model_dir() {
  if (const char* env = std::getenv("GRPO_REAL_MODEL")) return env;
  return fs::path(GRPO_SOURCE_DIR) / "models/smollm2-135m-instruct";
}

#define REQUIRE_REAL_MODEL()                                                                              \
  do {                                                                                                    \
    if (!fs::exists(model_dir() / "config.json"))                                                         \
      GTEST_SKIP() << "no imported model at " << model_dir()                                              \
                   << ": run scripts/fetch-real-model (needs PyPI) or set GRPO_REAL_MODEL";               \
  } while (0)

nlohmann::json reference_json() {
  std::ifstream in(kReference / "reference.json");
  return nlohmann::json::parse(in);
}

grpo::policy::PolicyBundle load_policy() {
  grpo::policy::PolicyLoad load;
  load.model_dir = model_dir();
  load.template_name = "chatml";
  load.system_prompt = kSystem;
  return grpo::policy::load_policy_bundle(load);
}

double relative_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  auto a = actual.to(torch::kFloat64), e = expected.to(torch::kFloat64);
  return (a - e).abs().max().item<double>() / e.abs().max().item<double>();
}

TEST(RealModel, LogitsMatchTransformersReadingTheGgufWithin1e5) {
  REQUIRE_REAL_MODEL();
  auto model = grpo::model::load_model(model_dir());
  const auto ref = grpo::model::SafetensorsFile::open(kReference / "reference.safetensors");
  ASSERT_TRUE(ref);
  torch::NoGradGuard no_grad;
  grpo::model::ForwardInput in;
  in.input_ids = ref->tensor("input_ids");
  const auto logits = model->logits(model->forward(in).hidden).to(torch::kFloat32);
  const auto last = logits.select(1, logits.size(1) - 1);
  EXPECT_LT(relative_error(last, ref->tensor("last_logits")), 1e-5);
  EXPECT_LT(relative_error(logits.logsumexp(-1), ref->tensor("logsumexp")), 1e-5);
}

TEST(RealModel, TokenizerEncodesLikeTransformersGgufTokenizer) {
  REQUIRE_REAL_MODEL();
  const auto policy = load_policy();
  for (const auto& c : reference_json()["encode"]) {
    const auto ids = policy.encode(c["text"].get<std::string>(), c["add_special_tokens"].get<bool>());
    EXPECT_EQ(ids, c["ids"].get<std::vector<int64_t>>()) << c["text"];
  }
}

TEST(RealModel, GreedyContinuationsEqualTransformersStopIncluded) {
  REQUIRE_REAL_MODEL();
  auto policy = load_policy();
  const auto ref = reference_json();
  // Hugging Face's stop rule: generation_config.json's eos first (what generate() used).
  const auto want_stops = ref["stop_ids"].is_array() ? ref["stop_ids"].get<std::vector<int64_t>>()
                                                     : std::vector<int64_t>{ref["stop_ids"].get<int64_t>()};
  ASSERT_GE(policy.stop_token_ids.size(), want_stops.size());
  EXPECT_TRUE(std::equal(want_stops.begin(), want_stops.end(), policy.stop_token_ids.begin()));

  std::vector<grpo::rollout::GenerationRequest> requests;
  int stopped = 0;
  for (const auto& g : ref["greedy"]) {
    // The example config's template (chatml + SmolLM's system message) renders the model's own.
    grpo::datasets::Record record;
    record.prompt = g["user"].get<std::string>();
    EXPECT_EQ(policy.render_prompt(record), g["text"].get<std::string>());
    const auto prompt_ids = g["prompt_ids"].get<std::vector<int64_t>>();
    EXPECT_EQ(policy.encode_prompt(record), prompt_ids) << record.prompt;
    grpo::rollout::GenerationRequest q;
    q.prompt_ids = prompt_ids;
    q.max_new_tokens = ref["greedy_new_tokens"].get<int64_t>();
    q.sampling.temperature = 0.0;
    q.stop_token_ids = policy.stop_token_ids;
    requests.push_back(q);
    const auto want = g["greedy_ids"].get<std::vector<int64_t>>();
    stopped += !want.empty() && std::count(want_stops.begin(), want_stops.end(), want.back()) > 0;
  }
  EXPECT_GT(stopped, 0) << "no reference continuation ends on a stop token: the stop rule is untested";
  grpo::rollout::EngineOptions eo;
  eo.slots = 16;
  eo.max_len = 512;
  grpo::rollout::RolloutEngine engine(policy.model, eo);
  const auto result = engine.generate(requests, 0);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(result.completions[i][0].token_ids, ref["greedy"][i]["greedy_ids"].get<std::vector<int64_t>>())
        << ref["greedy"][i]["user"];
}

TEST(RealModel, ModelInfoPrintsTheStopTokensTransformersStoppedAt) {
  REQUIRE_REAL_MODEL();
  const auto policy = load_policy();
  const auto ref = reference_json();
  const auto first = ref["stop_ids"].is_array() ? ref["stop_ids"][0].get<int>() : ref["stop_ids"].get<int>();
  const auto info = grpo::testing::run_command(std::string(GRPO_BIN) + " model info " + model_dir().string());
  ASSERT_EQ(info.exit_code, 0) << info.output;
  const std::string want = "stop tokens:       " + std::to_string(first) + " (" +
                           policy.tokenizer.id_to_token(first).value() + ")";
  EXPECT_NE(info.output.find(want), std::string::npos) << info.output;
}

TEST(RealModel, TwoGrpoStepsAtTemperatureTwoLogEverySampleAndRenderAReport) {
  REQUIRE_REAL_MODEL();
  const std::string grpo = GRPO_BIN;
  const fs::path dir = fs::temp_directory_path() / ("grpo_realmodel_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  fs::create_directories(dir);
  auto gen = grpo::testing::run_command(grpo + " data generate --task arithmetic --n 64 --output " +
                                        (dir / "train.jsonl").string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  std::ofstream(dir / "rl.yaml") << "run: {name: realmodel, device: cpu}\n"
                                 << "policy: {path: " << model_dir().string() << ", template: chatml, system_prompt: \""
                                 << kSystem << "\"}\n"
                                 << "data: {train: {path: " << (dir / "train.jsonl").string()
                                 << ", format: prompt_answer}}\n"
                                 << "rollout: {max_new_tokens: 16, temperature: 2.0, max_batch_sequences: 8}\n"
                                 << "rewards:\n  - {name: math_accuracy, weight: 1.0}\n"
                                 << "  - {name: format, weight: 0.5, params: {mode: lenient}}\n"
                                 << "rl: {group_size: 4, batch_size: 8, micro_batch_size: 8}\n"
                                 << "optim: {lr: 1.0e-6}\n"
                                 << "train: {steps: 2, save_every: 0, log_samples: 8}\n";
  const auto run_dir = dir / "run";
  auto rl = grpo::testing::run_command(grpo + " rl " + (dir / "rl.yaml").string() + " --run-dir " + run_dir.string());
  ASSERT_EQ(rl.exit_code, 0) << rl.output;
  grpo::sqlite::Connection db((run_dir / "run.db").string(), /*read_only=*/true);
  auto count = [&db](const std::string& sql) {
    auto st = db.prepare(sql);
    return st.step() ? st.column_int(0) : -1;
  };
  EXPECT_EQ(count("select count(*) from samples"), 16);
  EXPECT_EQ(count("select count(distinct step) from samples"), 2);
  EXPECT_EQ(count("select count(distinct step) from metrics where name = 'reward/total_mean'"), 2);
  auto report = grpo::testing::run_command(grpo + " report " + run_dir.string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_GT(fs::file_size(run_dir / "report.html"), 1000u);
  grpo::remove_tree(dir);
}

}  // namespace
