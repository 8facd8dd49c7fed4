// The math_accuracy reward: extracts the completion's final answer (sources and order from the
// `extract` param), extracts the reference the same way datasets store it (last box, GSM8K
// "####", or the whole string) and scores equivalence (math/equivalence.h). With
// `after_think` (default true) only the text after the last </think> is searched, so answers
// floated inside the reasoning do not count, and an unclosed <think> means no answer.
// `answer_form` (default "value") also requires the answer to be a value rather than an
// expression for the grader to evaluate (math/answer_form.h); "equivalent" accepts any
// equivalent expression. An answer copied from the prompt is named in the reason (the hacking
// audit counts it; under "value" a copied expression already scores `wrong`).
// Values: correct / wrong / no_answer params (1, 0, 0).
#include <memory>

#include "rewards/builtin.h"
#include "rewards/hacking_checks.h"
#include "rewards/math/answer_form.h"
#include "rewards/math/equivalence.h"
#include "rewards/math/extract.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

std::string quote(const std::string& s) {
  constexpr size_t kMax = 40;
  return "'" + (s.size() > kMax ? s.substr(0, kMax) + "..." : s) + "'";
}

class MathAccuracy : public Reward {
 public:
  explicit MathAccuracy(Params& p) {
    const auto names = p.get<std::vector<std::string>>(
        "extract", {"boxed", "answer_tag", "answer_line", "gsm8k", "last_number"});
    for (const auto& n : names) order_.push_back(math::parse_answer_source(n));
    after_think_ = p.get<bool>("after_think", true);
    options_.tolerance = p.get<double>("tolerance", 1e-6);
    max_answer_chars_ = p.get<size_t>("max_answer_chars", 1000);
    correct_ = p.get<double>("correct", 1.0);
    wrong_ = p.get<double>("wrong", 0.0);
    no_answer_ = p.get<double>("no_answer", 0.0);
    answer_form_ = math::parse_answer_form(p.get<std::string>("answer_form", "value"));
  }

  RewardResult score(const Sample& s) const override {
    std::string_view text = s.completion;
    if (after_think_) {
      const size_t close = text.rfind("</think>");
      if (close != std::string_view::npos) {
        text = text.substr(close + 8);
      } else if (text.find("<think>") != std::string_view::npos) {
        return {no_answer_, "no answer: <think> is never closed"};
      }
    }
    const auto found = math::extract_answer(text, order_);
    if (!found) return {no_answer_, "no answer found"};
    if (found->text.size() > max_answer_chars_) return {wrong_, "answer longer than max_answer_chars"};
    const std::string gold = math::extract_reference(s.answer);
    if (gold.empty()) return {wrong_, "empty reference answer"};
    const auto verdict = math::answers_equivalent(gold, found->text, options_);
    std::string from = std::string(" (from ") + math::answer_source_name(found->source) + ")";
    if (answer_copied_from_prompt(found->text, s.prompt)) from += ", copied from the prompt";
    if (!verdict.equal) return {wrong_, "wrong: " + quote(found->text) + from + " vs " + quote(gold) + ", " + verdict.how};
    if (answer_form_ == math::AnswerForm::kValue) {
      const std::string problem = math::value_form_problem(gold, found->text);
      if (!problem.empty()) return {wrong_, "answer is an expression, not a value: " + problem + from};
    }
    return {correct_, "correct " + verdict.how + ": " + quote(found->text) + from};
  }

 private:
  std::vector<math::AnswerSource> order_;
  bool after_think_;
  math::EquivalenceOptions options_;
  size_t max_answer_chars_;
  double correct_, wrong_, no_answer_;
  math::AnswerForm answer_form_;
};

}  // namespace

void register_math_rewards() {
  register_reward("math_accuracy", [](Params& p) { return std::make_unique<MathAccuracy>(p); });
}

}  // namespace grpo::rewards
