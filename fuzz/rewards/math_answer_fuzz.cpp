// libFuzzer target for the math-answer path: extraction from a completion, normalization,
// expression parsing and evaluation, equivalence and the answer-form rules. Input: one selector
// byte (fuzz_input.h) picking what one execution checks, then "gold\ncompletion":
//   0  extraction: the answer extracted from the completion, and its uncarried arithmetic;
//   1  the gold answer alone: parsed and evaluated, equivalent to itself when non-empty, and in
//      value form against itself;
//   2  comparison: the gold answer against the extracted answer (the completion itself when
//      nothing is extracted), equivalence and the answer-form rules.
// Besides not crashing, it checks that a non-empty answer is equivalent to itself and that an
// answer written as the reference is always in value form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "rewards/math/answer_form.h"
#include "rewards/math/equivalence.h"
#include "rewards/math/expr.h"
#include "rewards/math/extract.h"
#include "rewards/math/normalize.h"

using grpo::fuzz::check;
using namespace grpo::rewards::math;

namespace {

std::string extracted_or_whole(const std::string& completion) {
  const auto found = extract_answer(completion, {AnswerSource::Boxed, AnswerSource::AnswerTag, AnswerSource::AnswerLine,
                                                 AnswerSource::Gsm8k, AnswerSource::LastNumber});
  return found ? found->text : completion;
}

void check_gold_alone(const std::string& gold) {
  if (auto e = parse_expression(normalize_answer(gold))) evaluate_exact(*e);
  check(value_form_problem(gold, gold).empty(), "an answer written as the reference is in value form");
  if (!normalize_answer(gold).empty() && gold.size() < 4096)
    check(answers_equivalent(gold, gold).equal, "a non-empty answer is equivalent to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = grpo::fuzz::select_variant(data, size, 3);
  const std::string text(input.rest);
  const size_t nl = text.find('\n');
  const std::string gold = text.substr(0, nl);
  const std::string completion = nl == std::string::npos ? "" : text.substr(nl + 1);
  switch (input.variant) {
    case 0:
      has_uncarried_arithmetic(extracted_or_whole(completion));
      break;
    case 1:
      check_gold_alone(gold);
      break;
    default: {
      const std::string pred = extracted_or_whole(completion);
      answers_equivalent(gold, pred);
      value_form_problem(gold, pred);
      break;
    }
  }
  return 0;
}
