// `grpo generate` and `grpo eval` read the experiment's `rollout:` settings like the trainers:
// each sampling flag is a shorthand for its key, so a flag, the key=value override and the same
// key in a --config file give byte-identical samples (and a changed seed does not, so the
// comparison can fail); flags win over key=value, which wins over the file; the settings are
// validated by the same loader (an out-of-range key names itself), and rollout.cache_memory_gb
// bounds the engine (a budget below one group is refused naming the key).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

struct World {
  fs::path dir, policy, prompts, data;
};

const World& world() {
  static const World w = [] {
    World x;
    x.dir = grpo::testing::cli_scratch("sampling", "world");
    x.policy = x.dir / "policy";
    grpo::testing::make_tiny_policy(x.policy, {"copy 1 2 3 = 123", "copy 4 5 6 = 456", "<answer>7</answer>"});
    x.prompts = x.dir / "prompts.jsonl";
    std::ofstream(x.prompts) << "{\"prompt\": \"copy 1 2 3 =\"}\n{\"prompt\": \"copy 4 5\"}\n{\"prompt_ids\": [5, 17, 40]}\n";
    x.data = x.dir / "data.jsonl";
    std::ofstream(x.data) << "{\"prompt\": \"copy 1 2 3 =\", \"answer\": \"123\"}\n"
                             "{\"prompt\": \"copy 4 5 6 =\", \"answer\": \"456\"}\n";
    return x;
  }();
  return w;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `grpo generate` of the world's prompts with `args`, 3 samples each; returns the output JSONL.
std::string generate(const std::string& name, const std::string& args) {
  const auto out = world().dir / (name + ".jsonl");
  const auto r = run_command(kGrpo + " generate --model " + world().policy.string() + " --input " +
                             world().prompts.string() + " --output " + out.string() + " --n 3 --threads 1 " + args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_file(out);
}

}  // namespace

TEST(SamplingSettings, GenerateFlagsKeyValuesAndConfigFileGiveTheSameSamples) {
  const std::string flags = generate(
      "flags", "--temperature 0.7 --top-k 40 --top-p 0.9 --min-p 0.01 --max-new-tokens 6 --slots 4 --seed 11 --stop zz");
  const std::string keys = generate(
      "keys", "rollout.temperature=0.7 rollout.top_k=40 rollout.top_p=0.9 rollout.min_p=0.01 rollout.max_new_tokens=6 "
              "rollout.max_batch_sequences=4 run.seed=11 rollout.stop_strings=[zz]");
  const auto config = world().dir / "sampling.yaml";
  std::ofstream(config) << "run:\n  seed: 11\nrollout:\n  temperature: 0.7\n  top_k: 40\n  top_p: 0.9\n  min_p: 0.01\n"
                           "  max_new_tokens: 6\n  max_batch_sequences: 4\n  stop_strings: [zz]\n";
  const std::string file = generate("file", "--config " + config.string());
  ASSERT_FALSE(flags.empty());
  EXPECT_EQ(keys, flags);
  EXPECT_EQ(file, flags);
  const auto records = grpo::testing::read_jsonl(world().dir / "flags.jsonl");
  ASSERT_EQ(records.size(), 9u);
  for (const auto& r : records) EXPECT_LE(r.at("completion_ids").size(), 6u) << r.dump();
  EXPECT_NE(generate("other-seed", "--config " + config.string() + " run.seed=12"), flags);
}

TEST(SamplingSettings, FlagsWinOverKeyValuesWhichWinOverTheConfigFile) {
  const auto config = world().dir / "layered.yaml";
  std::ofstream(config) << "run:\n  seed: 3\nrollout:\n  temperature: 0.5\n  max_new_tokens: 2\n";
  const std::string layered =
      generate("layered", "--config " + config.string() + " rollout.max_new_tokens=4 --max-new-tokens 5");
  const std::string direct = generate("direct", "--temperature 0.5 --seed 3 --max-new-tokens 5");
  EXPECT_EQ(layered, direct);
  EXPECT_NE(generate("keyed", "--config " + config.string() + " rollout.max_new_tokens=4"), direct);
}

TEST(SamplingSettings, EvalFlagsAndKeyValuesGiveTheSameSamples) {
  auto eval = [](const std::string& name, const std::string& args) {
    const auto out = world().dir / (name + ".jsonl");
    const auto r = run_command(kGrpo + " eval --model " + world().policy.string() + " --data " +
                               world().data.string() + " --reward math_accuracy --template raw --threads 1 --output " +
                               out.string() + " " + args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return read_file(out);
  };
  const std::string flags = eval("eval-flags", "--k 3 --temperature 0.8 --max-new-tokens 5 --seed 2 --slots 3");
  const std::string keys = eval("eval-keys", "train.eval_samples=3 rollout.temperature=0.8 rollout.max_new_tokens=5 "
                                             "run.seed=2 rollout.max_batch_sequences=3");
  ASSERT_FALSE(flags.empty());
  EXPECT_EQ(keys, flags);
  EXPECT_EQ(grpo::testing::read_jsonl(world().dir / "eval-flags.jsonl").size(), 6u);
}

TEST(SamplingSettings, BadSettingsAreRefusedNamingTheirKey) {
  const std::string base = kGrpo + " generate --model " + world().policy.string() + " --input " +
                           world().prompts.string() + " --output " + (world().dir / "bad.jsonl").string() + " --n 3 ";
  const auto top_p = run_command(base + "--top-p 2");
  EXPECT_EQ(top_p.exit_code, 1);
  EXPECT_NE(top_p.output.find("'rollout.top_p' must be in (0, 1]"), std::string::npos) << top_p.output;
  const auto budget = run_command(base + "rollout.cache_memory_gb=1e-9");
  EXPECT_EQ(budget.exit_code, 1);
  EXPECT_NE(budget.output.find("'rollout.cache_memory_gb' is 1e-09 GiB, but 3 sequence(s)"), std::string::npos)
      << budget.output;
  const auto unknown = run_command(base + "rollout.temprature=0.5");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("rollout.temperature"), std::string::npos) << unknown.output;
}
