// `grpo eval` end to end on the tiny noisy teacher: the summary it prints has every field,
// each rate in [0, 1], and its pass@k equals the unbiased estimator 1 - C(n-c, k) / C(n, k)
// (computed here with explicit binomials) applied to the per-sample correctness it writes
// with --output; --run-dir stores the results in the run's database. (pass_at_k and maj@k ties
// on constructed counts are tested in tests/datasets.)
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/run_store.h"
#include "tests/common/run_command.h"
#include "tests/trainer/tiny_world.h"

namespace fs = std::filesystem;

namespace {

double binomial(int64_t n, int64_t k) {
  if (k < 0 || k > n) return 0.0;
  double r = 1.0;
  for (int64_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

}  // namespace

TEST(Eval, PassAtKOfTheCommandIsTheUnbiasedEstimatorOfItsSamples) {
  const auto& w = grpo::testing::tiny_world();
  const auto dir = grpo::testing::fresh_dir("eval");
  const auto out = dir / "samples.jsonl";
  const auto run_dir = w.root / "teacher-run";
  const auto r = grpo::testing::run_command(
      "(" + std::string(GRPO_BIN) + " eval --model " + w.teacher.string() + " --data " + w.eval_jsonl.string() +
      " --reward math_accuracy --k 4 --temperature 1 --template raw --max-new-tokens 8 --seed 3 --threads 1 --output " +
      out.string() + " --run-dir " + run_dir.string() + " 2>/dev/null)");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(summary.at("problems").get<int64_t>(), 60);
  EXPECT_EQ(summary.at("samples").get<int64_t>(), 240);
  for (const char* key : {"pass@1", "pass@2", "pass@4", "maj@1", "maj@2", "maj@4"}) {
    ASSERT_TRUE(summary.contains(key)) << key;
    EXPECT_GE(summary[key].get<double>(), 0.0) << key;
    EXPECT_LE(summary[key].get<double>(), 1.0) << key;
  }
  EXPECT_GT(summary.at("mean_length").get<double>(), 0.0);

  std::map<int64_t, std::pair<int64_t, int64_t>> per_prompt;  // prompt -> (n, c)
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto s = nlohmann::json::parse(line);
    auto& nc = per_prompt[s.at("prompt_index").get<int64_t>()];
    nc.first += 1;
    nc.second += s.at("correct").get<bool>();
  }
  ASSERT_EQ(per_prompt.size(), 60u);
  for (int64_t k : {1, 2, 4}) {
    double sum = 0;
    for (const auto& [prompt, nc] : per_prompt) {
      ASSERT_EQ(nc.first, 4);
      sum += 1.0 - binomial(nc.first - nc.second, k) / binomial(nc.first, k);
    }
    EXPECT_NEAR(summary.at("pass@" + std::to_string(k)).get<double>(), sum / 60.0, 1e-12) << k;
  }
  // The noisy teacher is neither always right nor always wrong, so the case is not trivial.
  EXPECT_GT(summary.at("pass@1").get<double>(), 0.2);
  EXPECT_LT(summary.at("pass@1").get<double>(), 1.0);
  EXPECT_GE(summary.at("pass@4").get<double>(), summary.at("pass@1").get<double>());

  grpo::RunStoreReader store((run_dir / "run.db").string());
  const auto latest = store.latest_metrics();
  ASSERT_TRUE(latest.count("eval/pass@4"));
  EXPECT_DOUBLE_EQ(latest.at("eval/pass@4").value, summary.at("pass@4").get<double>());
}
