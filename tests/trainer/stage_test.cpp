// The stage layer's pieces on their own: data.eval cut to data.eval_limit, the training sampler
// restored from a checkpoint's trainer state, the loop's evaluation and checkpoint schedule
// (including a resumed run, which replays nothing), the final save, a frozen reference, and a
// step's reward and length metrics. A two-layer model with
// a byte-level tokenizer made in the test; no training.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/run_store.h"
#include "model/io/model_io.h"
#include "model/tokenizer/bpe_trainer.h"
#include "rl/stage/completion_metrics.h"
#include "rl/stage/stage_loop.h"
#include "rl/stage/stage_setup.h"
#include "tests/trainer/tiny_world.h"

namespace fs = std::filesystem;

namespace grpo::rl {
namespace {

fs::path write_records(const fs::path& dir, int64_t count) {
  const auto path = dir / "records.jsonl";
  std::ofstream out(path);
  for (int64_t i = 0; i < count; ++i)
    out << nlohmann::json{{"id", "r" + std::to_string(i)}, {"prompt", "p" + std::to_string(i)}, {"answer", "1"}}.dump()
        << "\n";
  return path;
}

std::vector<std::string> ids(const std::vector<datasets::Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

// A directory holding the tiny model (random weights) and a byte-level tokenizer.
fs::path write_tiny_policy(const fs::path& dir) {
  fs::create_directories(dir);
  testing::write_tiny_config(dir);
  write_byte_level_bpe((dir / "tokenizer.json").string(), {"copy 1 2 3 = 123"}, {});
  model::CausalLM model(model::load_model_config(dir));
  model::init_weights(model, 3);
  model::save_model(model, dir);
  return dir;
}

std::unique_ptr<RunContext> open_test_run(const fs::path& dir, bool resume) {
  ExperimentConfig config;
  config.run.device = "cpu";
  config.run.dtype = "float32";
  config.run.log_level = "warn";
  config.run.threads = 1;
  return open_run(config, {dir.string(), resume, "run: {}\n"}, "test");
}

TEST(StageData, EvalRecordsAreTheFirstEvalLimitOfDataEval) {
  const auto dir = testing::fresh_dir("stage_data");
  DataSettings data;
  data.eval.path = write_records(dir, 5).string();
  data.eval.format = "prompt_answer";
  data.eval_limit = 3;
  EXPECT_EQ(ids(read_eval_records(data)), (std::vector<std::string>{"r0", "r1", "r2"}));
  data.eval_limit = 0;
  EXPECT_EQ(read_eval_records(data).size(), 5u);
  data.eval_limit = 9;
  EXPECT_EQ(read_eval_records(data).size(), 5u);
  data.eval.path.clear();
  EXPECT_TRUE(read_eval_records(data).empty());
}

TEST(StageSampler, ResumedSamplerDrawsWhatTheUninterruptedOneDrawsNext) {
  const auto dir = testing::fresh_dir("stage_sampler");
  auto run = open_test_run(dir / "run", false);
  datasets::ShuffleSampler whole(7, 11);
  EXPECT_EQ(start_sampler(*run, 7, 11).next_batch(5), whole.next_batch(5));  // a new run starts from the seed
  whole.next_batch(5);
  run->checkpoint = dir / "run" / "checkpoints" / "step-2";
  run->state.data = datasets::to_json(whole.state());
  auto resumed = start_sampler(*run, 7, /*seed ignored on resume*/ 99);
  EXPECT_EQ(resumed.next_batch(6), whole.next_batch(6));
}

TEST(StageModels, FrozenReferenceTakesNoGradientsIsInEvalModeAndHasTheRunsDtype) {
  const auto dir = testing::fresh_dir("stage_frozen");
  auto run = open_test_run(dir / "run", false);
  run->dtype = torch::kBFloat16;
  auto reference = load_frozen_model(write_tiny_policy(dir / "policy"), *run);
  EXPECT_FALSE(reference->is_training());
  for (const auto& p : reference->parameters()) {
    EXPECT_FALSE(p.requires_grad());
    EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  }
}

TEST(StageLoopSchedule, EvaluatesAtStartEveryNAndLastAndSavesEveryNAndLast) {
  TrainSettings train;
  train.steps = 7;
  train.eval_every = 3;
  train.save_every = 2;
  StageLoop loop("test", train);
  std::vector<int64_t> evals, saves;
  for (int64_t s = 0; s <= 7; ++s) {
    if (loop.eval_due(s)) evals.push_back(s);
    if (s > 0 && loop.save_due(s)) saves.push_back(s);
  }
  EXPECT_EQ(evals, (std::vector<int64_t>{0, 3, 6, 7}));
  EXPECT_EQ(saves, (std::vector<int64_t>{2, 4, 6, 7}));
  loop.eval_at_ends = false;  // SFT: every N only
  EXPECT_FALSE(loop.eval_due(0));
  EXPECT_TRUE(loop.eval_due(6));
  EXPECT_FALSE(loop.eval_due(7));
  loop.eval_every = 0;  // no evaluation at all, not even at the ends
  loop.eval_at_ends = true;
  EXPECT_FALSE(loop.eval_due(0));
  EXPECT_FALSE(loop.eval_due(7));
  loop.save_every = 0;  // only the last step
  EXPECT_FALSE(loop.save_due(6));
  EXPECT_TRUE(loop.save_due(7));
}

// Runs the loop until `stop_after` (a step that throws, like a killed run), recording the steps
// and evaluations it ran and, for each evaluation, whether its step's checkpoint existed yet.
struct LoopTrace {
  std::vector<int64_t> steps, evals;
  std::set<int64_t> eval_saw_checkpoint;
};

LoopTrace run_loop(RunContext& run, policy::PolicyBundle& policy, const TrainSettings& train, int64_t stop_after) {
  LoopTrace trace;
  datasets::ShuffleSampler sampler = start_sampler(run, 10, 4);
  CheckpointContents contents;
  contents.policy = &policy;
  auto step = [&](int64_t s) {
    if (s > stop_after) throw std::runtime_error("killed");
    sampler.next_batch(3);
    trace.steps.push_back(s);
    run.log(s, {{"test/step", static_cast<double>(s)}});
    return std::string();
  };
  auto evaluate = [&](int64_t s) {
    trace.evals.push_back(s);
    if (fs::exists(fs::path(run.dir.checkpoints_dir()) / ("step-" + std::to_string(s)))) trace.eval_saw_checkpoint.insert(s);
  };
  try {
    run_stage_loop(run, StageLoop("test", train), contents, sampler, step, evaluate);
  } catch (const std::runtime_error&) {
  }
  return trace;
}

TEST(StageLoopRun, ResumedRunReplaysOnlyTheStepsAfterItsNewestCheckpoint) {
  const auto dir = testing::fresh_dir("stage_loop");
  policy::PolicyLoad load;
  load.model_dir = write_tiny_policy(dir / "policy");
  load.template_name = "raw";
  auto policy = policy::load_policy_bundle(load);
  TrainSettings train;
  train.steps = 6;
  train.save_every = 2;
  train.keep_last = 2;
  train.eval_every = 2;
  {
    auto run = open_test_run(dir / "run", false);
    const auto first = run_loop(*run, policy, train, /*stop_after=*/5);
    EXPECT_EQ(first.steps, (std::vector<int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(first.evals, (std::vector<int64_t>{0, 2, 4}));
    EXPECT_TRUE(first.eval_saw_checkpoint.empty());  // each evaluation is logged before its checkpoint
  }
  auto run = open_test_run(dir / "run", true);
  ASSERT_TRUE(run->checkpoint);
  EXPECT_EQ(run->state.step, 4);
  const auto resumed = run_loop(*run, policy, train, 6);
  EXPECT_EQ(resumed.steps, (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(resumed.evals, (std::vector<int64_t>{6}));  // no step-0 evaluation on resume

  // keep_last 2 of the checkpoints at 2, 4, 6; each records the sampler after its step.
  EXPECT_FALSE(fs::exists(fs::path(run->dir.checkpoints_dir()) / "step-2"));
  ASSERT_TRUE(fs::exists(fs::path(run->dir.checkpoints_dir()) / "step-4"));
  const auto last = read_trainer_state(fs::path(run->dir.checkpoints_dir()) / "step-6");
  datasets::ShuffleSampler expected(10, 4);
  for (int i = 0; i < 6; ++i) expected.next_batch(3);
  EXPECT_EQ(last.step, 6);
  EXPECT_EQ(last.data, datasets::to_json(expected.state()));

  const auto final_dir = save_final_policy(*run, policy, "policy");
  EXPECT_EQ(final_dir, fs::path(run->dir.path()) / "final");
  EXPECT_TRUE(fs::exists(final_dir / "tokenizer.json"));
  auto reloaded = model::load_model(final_dir);
  EXPECT_TRUE(torch::equal(reloaded->parameters().front(), policy.model->parameters().front()));
}

TEST(StageMetrics, RewardMeansAccuracyAndLengthsOfAStepMatchHandComputedValues) {
  const rewards::RewardSet reward_set({{"math_accuracy", 1.0, nlohmann::json::object()},
                                       {"format", 0.5, nlohmann::json::object()}});
  // [completion][math_accuracy, format]: two of three correct; format 0.5 + 1 + 1.
  StepCompletions step;
  step.values = {{1.0, 0.5}, {0.0, 1.0}, {1.0, 1.0}};
  step.lengths = {4, 6, 11};
  step.truncated = {false, true, false};
  step.texts = {"Wait, 2+2=4.", "so it is 5", "Let me check: 4. Wait."};
  const auto m = completion_metrics(reward_set, step, {"wait", "let me check"});
  EXPECT_DOUBLE_EQ(m.at("reward/math_accuracy/mean"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("reward/format/mean"), 2.5 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("reward/accuracy"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("reward/format_rate"), 2.0 / 3.0);  // 0.5 is not a satisfied format
  EXPECT_DOUBLE_EQ(m.at("completion/length_mean"), 7.0);  // (4 + 6 + 11) / 3
  EXPECT_DOUBLE_EQ(m.at("completion/length_p90"), 11.0);  // rank ceil(0.9 * 3) = 3 of {4, 6, 11}
  EXPECT_DOUBLE_EQ(m.at("completion/truncated_frac"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("aha/wait_rate"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("aha/let_me_check_rate"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("aha/any_rate"), 2.0 / 3.0);
  EXPECT_EQ(m.size(), 10u);
}

TEST(StageMetrics, FormatRateFollowsTheFormatRoleUnderAnAliasAndIsAbsentWithoutOne) {
  StepCompletions step;
  step.values = {{1.0, 1.0}, {0.0, 0.0}, {1.0, 0.0}, {0.0, 1.0}};
  step.lengths = {1, 2, 3, 4};
  step.truncated = {false, false, false, false};
  step.texts = {"a", "b", "c", "d"};
  const rewards::RewardSet aliased({{"math_accuracy", 1.0, nlohmann::json::object()},
                                    {"tag_count", 1.0, nlohmann::json::object(), "tags"}});
  const auto with_format = completion_metrics(aliased, step, {});
  EXPECT_DOUBLE_EQ(with_format.at("reward/format_rate"), 0.5);  // completions 0 and 3
  EXPECT_EQ(with_format.count("aha/any_rate"), 0u);  // no phrases, no aha metrics
  const rewards::RewardSet no_format({{"math_accuracy", 1.0, nlohmann::json::object()},
                                      {"soft_overlong", 1.0, {{"max_length", 8}, {"cache", 2}}}});
  EXPECT_EQ(completion_metrics(no_format, step, {}).count("reward/format_rate"), 0u);
}

TEST(StageMetrics, LengthP90IsTheNearestRank) {
  // Ten lengths: rank ceil(9) = 9, the 9th smallest; one: itself; twenty: the 18th.
  EXPECT_DOUBLE_EQ(length_p90({10, 1, 9, 2, 8, 3, 7, 4, 6, 5}), 9.0);
  EXPECT_DOUBLE_EQ(length_p90({42}), 42.0);
  std::vector<int64_t> twenty;
  for (int64_t i = 20; i >= 1; --i) twenty.push_back(i * 10);
  EXPECT_DOUBLE_EQ(length_p90(twenty), 180.0);
}

}  // namespace
}  // namespace grpo::rl
