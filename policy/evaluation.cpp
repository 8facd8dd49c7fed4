// Policy evaluation with pass@k / maj@k; see evaluation.h.
#include "policy/evaluation.h"

#include <algorithm>

#include "core/error.h"
#include "policy/sampling_request.h"
#include "rewards/math/extract.h"
#include "rewards/math/normalize.h"

namespace grpo::policy {
namespace {

std::string extracted_answer(const std::string& completion) {
  using rewards::math::AnswerSource;
  const auto found = rewards::math::extract_answer(
      completion, {AnswerSource::AnswerTag, AnswerSource::Boxed, AnswerSource::AnswerLine, AnswerSource::Gsm8k});
  return found ? rewards::math::normalize_answer(found->text) : "";
}

}  // namespace

std::vector<int64_t> reported_ks(int64_t k) {
  std::vector<int64_t> ks;
  for (int64_t v = 1; v < k; v *= 2) ks.push_back(v);
  ks.push_back(k);
  return ks;
}

EvalOptions eval_options(const rollout::RolloutSettings& rollout, int64_t samples, uint64_t seed) {
  EvalOptions eo;
  eo.k = samples;
  eo.sampling = rollout;
  eo.sampling.temperature = samples > 1 ? rollout.temperature : 0.0;
  eo.seed = seed;
  return eo;
}

std::map<std::string, double> EvalResult::metrics(const std::string& prefix) const {
  std::map<std::string, double> m;
  m[prefix + "/pass@1"] = summary.pass_at_1;
  for (const auto& [k, v] : summary.pass_at) m[prefix + "/pass@" + std::to_string(k)] = v;
  for (const auto& [k, v] : summary.maj_at) m[prefix + "/maj@" + std::to_string(k)] = v;
  m[prefix + "/mean_length"] = summary.mean_length;
  m[prefix + "/reward_mean"] = mean_reward;
  return m;
}

EvalResult evaluate(rollout::RolloutEngine& engine, const PolicyBundle& policy,
                    const std::vector<datasets::Record>& records, const rewards::RewardSet& reward_set,
                    const EvalOptions& options) {
  require(!records.empty(), "evaluation needs at least one record");
  require(options.k >= 1, "evaluation needs k >= 1");
  require(options.sampling.temperature > 0 || options.k == 1, "greedy evaluation (temperature 0) takes one sample per prompt");
  const auto& names = reward_set.names();
  const std::string correct_name = options.correct_reward.empty() ? names[reward_set.correctness_index()] : options.correct_reward;
  const auto it = std::find(names.begin(), names.end(), correct_name);
  require(it != names.end(), "evaluation reward '" + correct_name + "' is not among the configured rewards");
  const size_t correct_index = static_cast<size_t>(it - names.begin());

  std::vector<rollout::GenerationRequest> requests;
  std::vector<std::string> prompts;
  for (const auto& r : records) {
    requests.push_back(sampling_request(options.sampling, policy, policy.encode_prompt(r), options.k));
    prompts.push_back(policy.render_prompt(r));
  }
  const auto generated = engine.generate(requests, options.seed);

  std::vector<rewards::Sample> samples;
  for (size_t i = 0; i < records.size(); ++i)
    for (const auto& c : generated.completions[i]) {
      rewards::Sample s;
      s.prompt = prompts[i];
      s.completion = policy.decode(c.token_ids, /*skip_special_tokens=*/true);
      s.answer = records[i].answer;
      s.extra = records[i].extra;
      s.completion_tokens = static_cast<long>(c.token_ids.size());
      s.truncated = c.finish_reason == rollout::FinishReason::kLength;
      samples.push_back(std::move(s));
    }
  const auto scores = reward_set.score(samples, [&](size_t j) {
    const auto& rec = records[j / options.k];
    return rec.source.file + ":" + std::to_string(rec.source.line);
  });

  EvalResult result;
  std::vector<datasets::ProblemSamples> problems(records.size());
  double reward_sum = 0;
  for (size_t j = 0; j < samples.size(); ++j) {
    const size_t i = j / options.k;
    const bool correct = rewards::reward_satisfied(scores.values[j][correct_index]);
    problems[i].correct.push_back(correct);
    problems[i].answers.push_back(extracted_answer(samples[j].completion));
    problems[i].lengths.push_back(*samples[j].completion_tokens);
    reward_sum += scores.totals[j];
    nlohmann::json rewards_js = nlohmann::json::object();
    for (size_t r = 0; r < names.size(); ++r) rewards_js[names[r]] = scores.values[j][r];
    result.samples.push_back({{"prompt_index", i},
                              {"sample", j % options.k},
                              {"id", records[i].id},
                              {"completion", samples[j].completion},
                              {"completion_ids", generated.completions[i][j % options.k].token_ids},
                              {"answer", records[i].answer},
                              {"extracted", problems[i].answers.back()},
                              {"correct", correct},
                              {"rewards", rewards_js},
                              {"reward", scores.totals[j]},
                              {"length", *samples[j].completion_tokens},
                              {"finish_reason", samples[j].truncated ? "length" : "stop"}});
  }
  result.summary = datasets::summarize(problems, reported_ks(options.k));
  result.mean_reward = reward_sum / static_cast<double>(samples.size());
  return result;
}

}  // namespace grpo::policy
