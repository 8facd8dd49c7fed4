// Teacher sampling, reward filtering and the distillation JSONL; see distill_data.h.
#include "rl/trainer/distill_data.h"


#include <algorithm>

#include "core/error.h"
#include "core/logging.h"
#include "core/progress.h"
#include "core/strings.h"
#include "core/text/json_lossy.h"
#include "policy/sampling_request.h"
#include "rl/stage/run_context.h"

namespace grpo::rl {

FilterRule filter_rule(const DistillSettings& settings, const rewards::RewardSet& reward_set) {
  const auto& reward_names = reward_set.names();
  FilterRule rule;
  rule.min_reward = settings.min_reward;
  rule.keep_truncated = settings.keep_truncated;
  rule.max_per_prompt = settings.max_per_prompt;
  rule.rewards = settings.filter_rewards;
  if (rule.rewards.empty()) {
    rule.rewards.push_back(reward_names[reward_set.correctness_index()]);
    const auto& kinds = reward_set.kinds();
    const auto format = std::find(kinds.begin(), kinds.end(), "format");
    if (format != kinds.end()) {
      const std::string& format_name = reward_names[static_cast<size_t>(format - kinds.begin())];
      if (rule.rewards.front() != format_name) rule.rewards.push_back(format_name);
    }
  }
  for (const auto& name : rule.rewards)
    if (std::find(reward_names.begin(), reward_names.end(), name) == reward_names.end())
      throw Error("'distill.filter_rewards' names '" + name + "', which is not among the configured rewards (" +
                  join(reward_names, ", ") + ")");
  return rule;
}

void check_distill_settings(const ExperimentConfig& cfg) {
  const auto& d = cfg.distill;
  std::vector<std::string> problems;
  if (d.teacher.empty()) problems.push_back("'distill.teacher' must name the teacher's Hugging Face directory");
  const auto section = validate(d);
  problems.insert(problems.end(), section.begin(), section.end());
  if (cfg.data.train.path.empty()) problems.push_back("'data.train.path' must name the prompts to distill on");
  if (d.mode == "on_policy_kl" && cfg.policy.path.empty())
    problems.push_back("'policy.path' must name the student for distill.mode on_policy_kl");
  if (d.mode == "sft" && cfg.policy.path.empty() && cfg.sft.init_config.empty())
    problems.push_back("the student needs 'policy.path' or 'sft.init_config'");
  if (!problems.empty()) throw Error(join(problems, "\n"));
}

std::map<std::string, double> DistillCounts::metrics() const {
  std::map<std::string, double> m;
  m["distill/prompts"] = static_cast<double>(prompts);
  m["distill/generated"] = static_cast<double>(generated);
  m["distill/kept"] = static_cast<double>(kept);
  m["distill/kept_frac"] = generated > 0 ? static_cast<double>(kept) / static_cast<double>(generated) : 0.0;
  m["distill/truncated"] = static_cast<double>(truncated);
  m["distill/prompts_with_kept"] = static_cast<double>(prompts_with_kept);
  for (const auto& [name, n] : passed) m["distill/passed/" + name] = static_cast<double>(n);
  for (const auto& [name, v] : reward_mean) m["reward/" + name + "/mean"] = v;
  return m;
}

namespace {

struct Chunk {
  std::vector<rollout::GenerationRequest> requests;
  std::vector<std::string> prompts;  // rendered, for the rewards
};

Chunk make_requests(const policy::PolicyBundle& teacher, const std::vector<datasets::Record>& records, size_t begin,
                    size_t end, const TeacherSampling& s) {
  Chunk c;
  for (size_t i = begin; i < end; ++i) {
    c.requests.push_back(
        policy::sampling_request(s.rollout, teacher, teacher.encode_prompt(records[i]), s.samples_per_prompt));
    c.prompts.push_back(teacher.render_prompt(records[i]));
  }
  return c;
}

// Applies the filter to scored samples one at a time, accumulating the file and the counts.
class SampleFilter {
 public:
  SampleFilter(const std::vector<std::string>& names, const FilterRule& rule, const TeacherSampling& s)
      : names_(names), rule_(rule), s_(s), reward_sums_(names.size(), 0.0) {
    for (const auto& name : rule.rewards)
      filter_index_.push_back(static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin()));
    for (const auto& n : names) out_.counts.passed[n] = 0;
  }

  // Sample k of the prompt `rec` (index prompt_index in the dataset); kept_here counts the
  // prompt's samples kept so far.
  void add(const datasets::Record& rec, size_t prompt_index, int64_t k, const rewards::Sample& sample,
           const std::vector<int64_t>& completion_ids, const std::vector<double>& values,
           const std::vector<std::string>& reasons, double total, int64_t& kept_here) {
    auto& counts = out_.counts;
    ++counts.generated;
    counts.truncated += sample.truncated;
    nlohmann::ordered_json rewards_js = nlohmann::ordered_json::object();
    for (size_t q = 0; q < names_.size(); ++q) {
      reward_sums_[q] += values[q];
      counts.passed[names_[q]] += values[q] >= rule_.min_reward;
      rewards_js[names_[q]] = values[q];
    }
    bool keep = rule_.keep_truncated || !sample.truncated;
    for (size_t q : filter_index_) keep = keep && values[q] >= rule_.min_reward;
    keep = keep && (rule_.max_per_prompt == 0 || kept_here < rule_.max_per_prompt);
    const std::string source = rec.source.file + ":" + std::to_string(rec.source.line);
    if (keep) {
      ++kept_here;
      ++counts.kept;
      auto line = datasets::record_to_json(rec);
      line[s_.response_field] = sample.completion;
      line["distill"] = {{"version", 1},           {"teacher", s_.teacher_label},
                         {"prompt_id", rec.id},    {"prompt_index", prompt_index},
                         {"sample", k},            {"source", source},
                         {"rewards", rewards_js},  {"reward", total},
                         {"finish_reason", sample.truncated ? "length" : "stop"},
                         {"tokens", *sample.completion_tokens}, {"completion_ids", completion_ids}};
      out_.jsonl += json_dump_lossy(line) + "\n";
    }
    if (static_cast<int64_t>(out_.logged.size()) < s_.log_samples)
      out_.logged.push_back({{"prompt_index", prompt_index}, {"sample", k}, {"prompt", sample.prompt},
                             {"completion", sample.completion}, {"completion_ids", completion_ids},
                             {"rewards", rewards_js}, {"reasons", reasons},
                             {"reward", total}, {"kept", keep}, {"source", source}});
  }

  void end_prompt(int64_t kept_here) {
    out_.counts.prompts_with_kept += kept_here > 0;
    ++out_.counts.prompts;
  }

  DistillData finish() {
    for (size_t q = 0; q < names_.size(); ++q)
      out_.counts.reward_mean[names_[q]] =
          reward_sums_[q] / static_cast<double>(std::max<int64_t>(1, out_.counts.generated));
    return std::move(out_);
  }

  const DistillCounts& counts() const { return out_.counts; }

 private:
  const std::vector<std::string>& names_;
  const FilterRule& rule_;
  const TeacherSampling& s_;
  std::vector<size_t> filter_index_;
  std::vector<double> reward_sums_;
  DistillData out_;
};

}  // namespace

DistillData make_distill_data(rollout::RolloutEngine& engine, const policy::PolicyBundle& teacher,
                              const std::vector<datasets::Record>& records, const rewards::RewardSet& reward_set,
                              const FilterRule& rule, const TeacherSampling& s) {
  require(!records.empty(), "distillation needs at least one prompt");
  SampleFilter filter(reward_set.names(), rule, s);
  Progress progress("teacher", static_cast<int64_t>(records.size()), "prompts", 30.0);
  for (size_t begin = 0; begin < records.size(); begin += s.generate_batch) {
    const size_t end = std::min(records.size(), begin + static_cast<size_t>(s.generate_batch));
    const auto chunk = make_requests(teacher, records, begin, end, s);
    const auto gen = engine.generate(chunk.requests, step_seed(s.seed, static_cast<int64_t>(begin), 11));
    std::vector<rewards::Sample> samples;
    for (size_t r = 0; r < chunk.requests.size(); ++r)
      for (const auto& c : gen.completions[r]) {
        const auto& rec = records[begin + r];
        samples.push_back({chunk.prompts[r], teacher.decode(c.token_ids, /*skip_special_tokens=*/true), rec.answer,
                           rec.extra, static_cast<long>(c.token_ids.size()),
                           c.finish_reason == rollout::FinishReason::kLength});
      }
    const auto scores = reward_set.score(samples, [&](size_t j) {
      const auto& rec = records[begin + j / s.samples_per_prompt];
      return rec.source.file + ":" + std::to_string(rec.source.line);
    });
    for (size_t r = 0; r < chunk.requests.size(); ++r) {
      int64_t kept_here = 0;
      for (int64_t k = 0; k < s.samples_per_prompt; ++k) {
        const size_t j = r * s.samples_per_prompt + k;
        filter.add(records[begin + r], begin + r, k, samples[j], gen.completions[r][k].token_ids, scores.values[j],
                   scores.reasons[j], scores.totals[j], kept_here);
      }
      filter.end_prompt(kept_here);
    }
    progress.advance(static_cast<int64_t>(end - begin), "kept " + std::to_string(filter.counts().kept) + "/" +
                                                             std::to_string(filter.counts().generated));
  }
  progress.finish();
  return filter.finish();
}

}  // namespace grpo::rl
