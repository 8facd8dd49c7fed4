// Reference-answer extraction for the dataset shapes that store a worked solution instead of
// a bare answer: GSM8K's final `#### N` line and MATH's last \boxed{...}. These read *gold*
// solutions written by people; they are not the lenient extractors that rewards/ applies to
// model completions, and they do not normalize LaTeX beyond taking the box's content.
#pragma once

#include <optional>
#include <string>

namespace grpo::datasets {

// GSM8K: the text after the last "####", trimmed, with thousands commas removed
// ("#### 1,234" -> "1234"). nullopt when there is no "####" or nothing follows it.
std::optional<std::string> gsm8k_final_answer(const std::string& solution);

// MATH: the content of the last top-level \boxed{...} or \fbox{...}, braces balanced (an
// escaped "\{" or "\}" does not count), e.g. "\boxed{\frac{1}{2}}" -> "\frac{1}{2}". A box
// nested inside another belongs to the outer one. "\boxed 5" (no braces) yields the token up
// to the next space or '$'. nullopt when there is no box or its braces never close.
std::optional<std::string> last_boxed_answer(const std::string& solution);

}  // namespace grpo::datasets
