// libFuzzer target for the math-answer path: extraction from a completion, normalization,
// expression parsing and evaluation, equivalence and the answer-form rules. Input:
// "gold\ncompletion". Besides not crashing, it checks that a non-empty answer is equivalent to
// itself and that an answer written as the reference is always in value form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rewards/math/answer_form.h"
#include "rewards/math/equivalence.h"
#include "rewards/math/expr.h"
#include "rewards/math/extract.h"
#include "rewards/math/normalize.h"

using namespace grpo::rewards::math;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string gold = input.substr(0, nl);
  const std::string completion = nl == std::string::npos ? "" : input.substr(nl + 1);
  const auto found = extract_answer(completion, {AnswerSource::Boxed, AnswerSource::AnswerTag, AnswerSource::AnswerLine,
                                                 AnswerSource::Gsm8k, AnswerSource::LastNumber});
  const std::string pred = found ? found->text : completion;
  if (auto e = parse_expression(normalize_answer(gold))) evaluate_exact(*e);
  answers_equivalent(gold, pred);
  value_form_problem(gold, pred);
  has_uncarried_arithmetic(pred);
  if (!value_form_problem(gold, gold).empty()) std::abort();
  if (!normalize_answer(gold).empty() && gold.size() < 4096 && !answers_equivalent(gold, gold).equal) std::abort();
  return 0;
}
