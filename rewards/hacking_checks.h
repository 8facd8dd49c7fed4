// Per-completion checks for the reward hacks of issue 31, shared by the format rewards,
// math_accuracy's reasons and the hacking audit (audit.h):
//   - thinking that is empty, the template's own placeholder, or shorter than a minimum;
//   - a final answer copied from the prompt.
// Placeholders are read from the prompt itself: the rendered prompt holds the template's
// system text, and the phrases inside its example tags ("<think> reasoning process here
// </think> <answer> answer here </answer>") are what a policy can copy. That needs no
// plumbing from the template to the rewards and follows a custom system prompt too. A prompt
// without example tags (a template without system text) gives no placeholders; that is
// logged once per process. "Tokens" are whitespace-separated words: rewards have no tokenizer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::rewards {

// The completion as the format rewards read it: when the prompt ends with "<think>" (R1-Zero
// and TinyZero templates) and the completion does not open one, "<think>" is prepended.
std::string completion_with_opened_think(std::string_view prompt, std::string_view completion);

// The text between the first "<think>" and the first "</think>" after it; nullopt when the
// completion has no complete think block.
std::optional<std::string> think_content(std::string_view completion);

// The non-empty contents of the example <think>…</think> and <answer>…</answer> pairs in the
// prompt, trimmed and lower-cased with runs of spaces collapsed. Logs a warning once per
// process when there are none.
std::vector<std::string> template_placeholders(std::string_view prompt);

size_t count_words(std::string_view text);

enum class ThinkingProblem { kNone, kEmpty, kPlaceholder, kTooShort };

struct ThinkingCheck {
  ThinkingProblem problem = ThinkingProblem::kNone;
  std::string reason;  // "" when problem is kNone
};

// Judges a think block's content against the prompt's placeholders and `min_words` (0 = no
// minimum). Placeholders match after trimming, lower-casing, collapsing spaces and dropping
// sentence punctuation (. , ; : ! ?) at either end ("Reasoning process here." is the placeholder).
ThinkingCheck check_thinking(std::string_view content, std::string_view prompt, size_t min_words);

// The completion's final answer as the audit reads it: after the last "</think>", the last
// \boxed{}, else the last <answer>…</answer>, else the last "answer:" line; nullopt if none.
std::optional<std::string> final_answer(std::string_view completion);

// True when `answer` is text taken from the prompt rather than a value: with whitespace
// removed it has at least 3 characters, occurs in the prompt (whitespace removed too), is
// not a number literal, and is more than one plain word (it holds a space, an operator or
// punctuation). "6 * 3 - 0" from "What is 6 * 3 - 0?" is copied; "18" and "Monday" are not.
bool answer_copied_from_prompt(const std::string& answer, std::string_view prompt);

}  // namespace grpo::rewards
