// math_accuracy against math-verify on the committed corpus (tests/rewards/data/
// math_verify_corpus.jsonl, made by bench/rewards/math_verify_corpus.py with math-verify 0.9.0):
// each line holds a reference, a completion, the verdict by construction (`expected`) and
// math-verify's recorded verdict, so this runs without Python. Under `answer_form: equivalent`
// we must agree with math-verify on >= 99.5% of the pairs outside the deliberate differences
// of docs/rewards.md, and on those we must give the verdict by construction (math-verify's is
// wrong there). Under `value` the only further departures are answer-form rejections.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

struct Pair {
  std::string style;
  Sample sample;
  bool expected = false;
  bool math_verify = false;
};

// Styles where math-verify's verdict is wrong by construction and ours differs on purpose; the
// table "Deliberate differences from math-verify" in docs/rewards.md explains each.
const std::set<std::string> kDeliberateDifferences = {"interval_vs_inequality", "tuple_vs_set",
                                                      "plus_minus_in_fraction", "scientific_decimal_mantissa"};

std::vector<Pair> load_corpus() {
  const std::string path = std::string(GRPO_SOURCE_DIR) + "/tests/rewards/data/math_verify_corpus.jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<Pair> pairs;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    Pair p;
    p.style = j.at("style").get<std::string>();
    p.sample.completion = j.at("completion").get<std::string>();
    p.sample.answer = "\\boxed{" + j.at("gold").get<std::string>() + "}";
    p.expected = j.at("expected").get<bool>();
    p.math_verify = j.at("math_verify").get<bool>();
    pairs.push_back(std::move(p));
  }
  return pairs;
}

const std::vector<Pair>& corpus() {
  static const std::vector<Pair> pairs = load_corpus();
  return pairs;
}

bool correct(const Reward& reward, const Pair& p) { return reward.score(p.sample).value == 1.0; }

TEST(MathVerifyAgreement, CorpusHasAtLeast5000Pairs) { EXPECT_GE(corpus().size(), 5000u); }

TEST(MathVerifyAgreement, AgreesWithMathVerifyOutsideTheDeliberateDifferences) {
  const auto reward = make_reward("math_accuracy", {{"answer_form", "equivalent"}});
  size_t compared = 0, agreed = 0;
  std::string first_disagreements;
  for (const auto& p : corpus()) {
    if (kDeliberateDifferences.count(p.style)) continue;
    ++compared;
    if (correct(*reward, p) == p.math_verify) {
      ++agreed;
    } else if (first_disagreements.size() < 2000) {
      first_disagreements += p.style + ": " + p.sample.answer + " vs " + p.sample.completion + "\n";
    }
  }
  ASSERT_GT(compared, 5000u);
  EXPECT_GE(static_cast<double>(agreed) / compared, 0.995)
      << agreed << " of " << compared << "\n" << first_disagreements;
}

TEST(MathVerifyAgreement, DeliberateDifferencesGiveTheVerdictByConstruction) {
  const auto reward = make_reward("math_accuracy", {{"answer_form", "equivalent"}});
  std::set<std::string> seen;
  for (const auto& p : corpus()) {
    if (!kDeliberateDifferences.count(p.style)) continue;
    seen.insert(p.style);
    EXPECT_EQ(correct(*reward, p), p.expected) << p.style << ": " << p.sample.answer << " vs " << p.sample.completion;
  }
  EXPECT_EQ(seen, kDeliberateDifferences);  // every documented difference is still in the corpus
}

TEST(MathVerifyAgreement, AccuracyAgainstTheVerdictByConstruction) {
  const auto reward = make_reward("math_accuracy", {{"answer_form", "equivalent"}});
  size_t right = 0, math_verify_right = 0;
  for (const auto& p : corpus()) {
    right += correct(*reward, p) == p.expected;
    math_verify_right += p.math_verify == p.expected;
  }
  const double n = static_cast<double>(corpus().size());
  EXPECT_GE(right / n, 0.995);
  EXPECT_GE(right, math_verify_right);  // never less accurate than math-verify on this corpus
}

TEST(MathVerifyAgreement, ValueFormOnlyAddsAnswerFormRejections) {
  const auto equivalent = make_reward("math_accuracy", {{"answer_form", "equivalent"}});
  const auto value = make_reward("math_accuracy", nlohmann::json::object());
  size_t rejected = 0;
  for (const auto& p : corpus()) {
    const auto v = value->score(p.sample);
    if ((v.value == 1.0) == correct(*equivalent, p)) continue;
    ++rejected;
    EXPECT_EQ(v.reason.rfind("answer is an expression, not a value", 0), 0u) << p.style << ": " << v.reason;
  }
  EXPECT_GT(rejected, 0u);  // the corpus's "power" pairs (2^{8} for 256) are expressions
}

}  // namespace
}  // namespace grpo::rewards
