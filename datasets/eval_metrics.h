// Evaluation metrics over k sampled completions per problem, as pure functions:
//   pass@k   the unbiased estimator of Chen et al. 2021 (Codex paper), 1 - C(n-c,k)/C(n,k),
//            computed as the product 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms the
//            huge binomials;
//   pass@1   the mean over samples (c/n per problem), averaged over problems;
//   maj@k    majority vote among the first k samples' extracted answers;
//   mean length of completions.
// Correctness and answer extraction are the caller's (rewards/); answers must already be
// normalized, since votes compare strings exactly. Problems are weighted equally.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grpo::datasets {

// n samples, c of them correct, k <= n. Bad arguments are a grpo::Error.
double pass_at_k(int64_t n, int64_t c, int64_t k);

struct MajorityVote {
  bool has_answer = false;  // false when no sample had an answer
  std::string answer;
  int64_t votes = 0;
  size_t first_index = 0;   // the first sample giving `answer`
};

// The most frequent non-empty answer ("" means the sample had no answer and does not vote).
// Ties: among the tied answers, the one that appears first wins, so the vote depends only
// on the samples and their order.
MajorityVote majority_vote(const std::vector<std::string>& answers);

// 1 when the majority answer among the first k samples is correct (the correctness of the
// first sample that gave it), else 0; 0 when none of them has an answer.
double maj_at_k(const std::vector<std::string>& answers, const std::vector<bool>& correct, int64_t k);

// Mean of `lengths` (e.g. completion tokens); an empty list is a grpo::Error.
double mean_length(const std::vector<int64_t>& lengths);

// One problem's samples, index-aligned.
struct ProblemSamples {
  std::vector<bool> correct;
  std::vector<std::string> answers;  // extracted, normalized; "" = none
  std::vector<int64_t> lengths;
};

struct EvalSummary {
  int64_t problems = 0;
  int64_t samples = 0;
  double pass_at_1 = 0;
  std::map<int64_t, double> pass_at;  // k -> mean pass@k
  std::map<int64_t, double> maj_at;   // k -> mean maj@k
  double mean_length = 0;  // over all samples
};

// Every metric over `problems` for each k in `ks`. Each problem needs at least max(ks)
// samples and aligned vectors; otherwise a grpo::Error naming the problem's index.
EvalSummary summarize(const std::vector<ProblemSamples>& problems, const std::vector<int64_t>& ks);

// {"problems": .., "samples": .., "pass@1": .., "pass@K": .., "maj@K": .., "mean_length": ..}
nlohmann::json to_json(const EvalSummary& summary);

}  // namespace grpo::datasets
