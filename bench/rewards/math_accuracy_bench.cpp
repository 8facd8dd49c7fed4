// math_accuracy against math-verify on the corpus of math_verify_corpus.py, in one run:
// agreement with math-verify (overall, and on the pairs where math-verify gives the verdict by
// construction) and accuracy against the verdict by construction, under each `answer_form`
// (value, the default, and equivalent), every class of disagreement with an example, and
// scores per second on one thread and on all threads beside math-verify's pairs per second.
// `value` rejects expressions by design (e.g. the corpus's "power" pairs, 2^{8} for 256),
// which math-verify accepts; those classes show in its disagreements.
// Usage: math_accuracy_bench [CORPUS.jsonl]; the default is the committed corpus
// (tests/rewards/data/math_verify_corpus.jsonl); a path that does not exist is generated there
// (needs python3 with math-verify), and math-verify's own speed is timed only where python3
// can import it. Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "core/thread_pool.h"
#include "rewards/reward.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string style;
  grpo::rewards::Sample sample;
  bool expected, math_verify;
};

std::string shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

std::vector<Row> load(const std::string& path) {
  std::vector<Row> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    Row r;
    r.style = j["style"];
    r.sample.completion = j["completion"];
    r.sample.answer = "\\boxed{" + j["gold"].get<std::string>() + "}";
    r.expected = j["expected"];
    r.math_verify = j["math_verify"];
    rows.push_back(std::move(r));
  }
  return rows;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Scores per second over the corpus, `threads` at a time, median of `repeats`.
double rate(const grpo::rewards::Reward& reward, const std::vector<Row>& rows, size_t threads, int repeats) {
  grpo::ThreadPool pool(threads);
  std::vector<double> rates;
  constexpr int kPasses = 20;  // the corpus is small; several passes per timing
  for (int rep = 0; rep < repeats; ++rep) {
    const auto start = Clock::now();
    pool.parallel_for(rows.size() * kPasses, [&](size_t i) { reward.score(rows[i % rows.size()].sample); });
    rates.push_back(rows.size() * kPasses / std::chrono::duration<double>(Clock::now() - start).count());
  }
  return median(rates);
}

// Agreement of `reward` with math-verify and with the verdict by construction, and every
// class of disagreement with math-verify with one example.
nlohmann::json agreement(const grpo::rewards::Reward& reward, const std::vector<Row>& rows) {
  size_t agree_mv = 0, agree_truth = 0, mv_truth = 0, agree_mv_where_right = 0;
  std::map<std::string, std::pair<size_t, nlohmann::json>> classes;  // "style ours=x mv=y" -> count, example
  for (const auto& r : rows) {
    const auto result = reward.score(r.sample);
    const bool ours = result.value == 1.0;
    agree_mv += ours == r.math_verify;
    agree_truth += ours == r.expected;
    mv_truth += r.math_verify == r.expected;
    agree_mv_where_right += r.math_verify == r.expected && ours == r.math_verify;
    if (ours != r.math_verify) {
      auto& c = classes[r.style + " ours=" + (ours ? "equal" : "different") + " math_verify=" +
                        (r.math_verify ? "equal" : "different")];
      if (c.first++ == 0) c.second = {{"gold", r.sample.answer}, {"completion", r.sample.completion}, {"reason", result.reason}};
    }
  }
  nlohmann::json disagreements = nlohmann::json::array();
  for (const auto& [key, value] : classes) disagreements.push_back({{"class", key}, {"count", value.first}, {"example", value.second}});
  return {{"agreement_with_math_verify", static_cast<double>(agree_mv) / rows.size()},
          {"agreement_with_construction", static_cast<double>(agree_truth) / rows.size()},
          {"agreement_with_math_verify_where_it_matches_construction", static_cast<double>(agree_mv_where_right) / mv_truth},
          {"math_verify_agreement_with_construction", static_cast<double>(mv_truth) / rows.size()},
          {"disagreements", disagreements}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string script = std::string(GRPO_SOURCE_DIR) + "/bench/rewards/math_verify_corpus.py";
  const std::string corpus =
      argc > 1 ? argv[1] : std::string(GRPO_SOURCE_DIR) + "/tests/rewards/data/math_verify_corpus.jsonl";
  if (!std::ifstream(corpus)) shell("python3 " + script + " --out " + corpus);
  const auto rows = load(corpus);
  if (rows.empty()) {
    std::cerr << "no corpus at " << corpus << " (needs python3 with math-verify)\n";
    return 1;
  }
  nlohmann::json forms = nlohmann::json::object();
  for (const char* form : {"value", "equivalent"}) {
    forms[form] = agreement(*grpo::rewards::make_reward("math_accuracy", {{"answer_form", form}}), rows);
  }
  const auto reward = grpo::rewards::make_reward("math_accuracy", nlohmann::json::object());
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  const double one = rate(*reward, rows, 1, 5);
  const double all = rate(*reward, rows, threads, 5);
  double mv_rate = 0;
  try {
    mv_rate = nlohmann::json::parse(shell("python3 " + script + " --time " + corpus))["pairs_per_s"];
  } catch (const std::exception&) {
  }
  nlohmann::json out = {
      {"benchmark", "math_accuracy"},
      {"pairs", rows.size()},
      {"answer_forms", forms},
      {"scores_per_s_1_thread", one},
      {"scores_per_s_all_threads", all},
      {"threads", threads},
      {"baseline_math_verify_pairs_per_s_1_thread", mv_rate},
      {"ratio_1_thread", mv_rate > 0 ? one / mv_rate : 0.0},
      {"device", "cpu"},
      {"repeats", 5}};
  std::cout << out.dump(2) << "\n";
}
