// What form a math answer must take to earn credit: under `value` (math_accuracy's default) an
// answer must be a value, not an expression that the grader would have to evaluate. A policy
// that may answer "6 * 3 - 0" for 18 learns to copy the question (issue 31). The rules:
//   - a reference that is a number literal (integer, decimal, fraction, percent, scientific,
//     mixed number) wants a number literal; a fraction that is a whole number ("84/7") is an
//     un-carried division unless the reference is itself written as a fraction;
//   - any other reference (symbolic, compound) rejects arithmetic between numeric literals
//     that was not carried out ("2+2", "6 \times 3", "2^{8}") and lets canonical forms pass
//     ("2\sqrt{3}", "\frac{\pi}{4}", "(1, 2)", "x^2+1", "10^{-3}", "2^{1/3}"), unless the
//     reference itself holds such arithmetic ("\frac{8\pi}{2}").
// Functions of literals ("\sqrt{48}", "\sin 60^\circ") are not arithmetic and pass. An answer
// written exactly as the reference (after normalization) always passes. This file does not
// decide equality (equivalence.h) and knows nothing of completions or prompts.
#pragma once

#include <string>

namespace grpo::rewards::math {

enum class AnswerForm { kValue, kEquivalent };

// "value" or "equivalent"; anything else is a grpo::Error naming the valid values.
AnswerForm parse_answer_form(const std::string& name);

// A normalized answer (normalize.h) that is one number literal: "18", "-102", "0.75", "5/12",
// "\frac{5}{12}", "1.5e3", "3\times10^{5}", "10^{-3}", or a mixed number as normalization
// writes it, "(3+\frac{1}{2})".
bool is_number_literal(const std::string& normalized);

// Why `pred` (raw, as extracted) is not in value form for the reference `gold` (raw), or ""
// when it is. The text names the rule that failed.
std::string value_form_problem(const std::string& gold, const std::string& pred);

// True when `answer` (raw) holds arithmetic between numeric literals that was not carried
// out, or is a whole number written as a fraction ("84/7"), whatever the reference: the
// audit's "answer is an expression" test.
bool has_uncarried_arithmetic(const std::string& answer);

}  // namespace grpo::rewards::math
