// Finding the final answer in a completion: the last \boxed{}/\fbox{}, the last
// <answer>...</answer>, the last "Answer:"/"answer is" line, GSM8K's "#### N", or the last
// number, tried in a configurable order (the first source that finds something wins; within a
// source the last occurrence counts). Hand-written scanners, linear in the text: no regex, so
// no catastrophic backtracking. It does not judge the answer (see equivalence.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::rewards::math {

enum class AnswerSource { Boxed, AnswerTag, AnswerLine, Gsm8k, LastNumber };

struct Extracted {
  std::string text;
  AnswerSource source;
};

std::optional<Extracted> extract_answer(std::string_view text, const std::vector<AnswerSource>& order);

// The content of the last complete \boxed{...} or \fbox{...}; nullopt when the last one is
// unbalanced (a truncated completion) or there is none.
std::optional<std::string> last_boxed(std::string_view text);

// A reference answer as stored in datasets: a full solution's last box, or what follows
// GSM8K's "####", else the whole string.
std::string extract_reference(const std::string& answer);

// "boxed", "answer_tag", "answer_line", "gsm8k", "last_number"; throws grpo::Error otherwise.
AnswerSource parse_answer_source(const std::string& name);
const char* answer_source_name(AnswerSource source);

}  // namespace grpo::rewards::math
