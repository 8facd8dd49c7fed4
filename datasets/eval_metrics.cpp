// pass@k, maj@k and length metrics; see eval_metrics.h.
#include "datasets/eval_metrics.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"

namespace grpo::datasets {

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  if (n <= 0 || c < 0 || c > n || k <= 0 || k > n) {
    throw Error("pass@k needs 0 <= c <= n, 1 <= k <= n; got n=" + std::to_string(n) + ", c=" + std::to_string(c) +
                ", k=" + std::to_string(k));
  }
  if (n - c < k) return 1.0;  // every k-subset contains a correct sample
  // C(n-c,k)/C(n,k) = prod_{i=n-c+1..n} (1 - k/i)
  double all_wrong = 1.0;
  for (int64_t i = n - c + 1; i <= n; ++i) all_wrong *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - all_wrong;
}

MajorityVote majority_vote(const std::vector<std::string>& answers) {
  std::unordered_map<std::string, int64_t> votes;
  for (const auto& a : answers) {
    if (!a.empty()) ++votes[a];
  }
  MajorityVote best;
  // Scanning in sample order and replacing only on strictly more votes makes the earliest
  // answer win ties.
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].empty()) continue;
    const int64_t v = votes[answers[i]];
    if (v > best.votes) best = MajorityVote{true, answers[i], v, i};
  }
  return best;
}

double maj_at_k(const std::vector<std::string>& answers, const std::vector<bool>& correct, int64_t k) {
  if (answers.size() != correct.size()) throw Error("maj@k: answers and correct differ in length");
  if (k <= 0 || k > static_cast<int64_t>(answers.size())) {
    throw Error("maj@k needs 1 <= k <= samples (" + std::to_string(answers.size()) + "), got k=" + std::to_string(k));
  }
  const std::vector<std::string> first(answers.begin(), answers.begin() + k);
  const MajorityVote vote = majority_vote(first);
  return vote.has_answer && correct[vote.first_index] ? 1.0 : 0.0;
}

double mean_length(const std::vector<int64_t>& lengths) {
  if (lengths.empty()) throw Error("mean length of no samples");
  double total = 0;
  for (int64_t l : lengths) total += static_cast<double>(l);
  return total / static_cast<double>(lengths.size());
}

EvalSummary summarize(const std::vector<ProblemSamples>& problems, const std::vector<int64_t>& ks) {
  if (problems.empty()) throw Error("eval summary: no problems");
  EvalSummary s;
  s.problems = static_cast<int64_t>(problems.size());
  double length_total = 0;
  for (size_t p = 0; p < problems.size(); ++p) {
    const auto& ps = problems[p];
    const int64_t n = static_cast<int64_t>(ps.correct.size());
    if (n == 0 || ps.answers.size() != ps.correct.size() || ps.lengths.size() != ps.correct.size()) {
      throw Error("eval summary: problem " + std::to_string(p) +
                  " needs the same non-zero number of correct flags, answers and lengths");
    }
    const int64_t c = std::count(ps.correct.begin(), ps.correct.end(), true);
    s.pass_at_1 += pass_at_k(n, c, 1);
    for (int64_t k : ks) {
      if (k > n) {
        throw Error("eval summary: problem " + std::to_string(p) + " has " + std::to_string(n) +
                    " samples, fewer than k=" + std::to_string(k));
      }
      s.pass_at[k] += pass_at_k(n, c, k);
      s.maj_at[k] += maj_at_k(ps.answers, ps.correct, k);
    }
    s.samples += n;
    for (int64_t l : ps.lengths) length_total += static_cast<double>(l);
  }
  const double count = static_cast<double>(s.problems);
  s.pass_at_1 /= count;
  for (auto& [k, v] : s.pass_at) v /= count;
  for (auto& [k, v] : s.maj_at) v /= count;
  s.mean_length = length_total / static_cast<double>(s.samples);
  return s;
}

nlohmann::json to_json(const EvalSummary& s) {
  nlohmann::json out = {{"problems", s.problems}, {"samples", s.samples}, {"pass@1", s.pass_at_1}};
  for (const auto& [k, v] : s.pass_at) out["pass@" + std::to_string(k)] = v;
  for (const auto& [k, v] : s.maj_at) out["maj@" + std::to_string(k)] = v;
  out["mean_length"] = s.mean_length;
  return out;
}

}  // namespace grpo::datasets
