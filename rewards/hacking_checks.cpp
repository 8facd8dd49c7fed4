// Per-completion hacking checks; see hacking_checks.h.
#include "rewards/hacking_checks.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "core/logging.h"
#include "core/strings.h"
#include "rewards/math/answer_form.h"
#include "rewards/math/extract.h"
#include "rewards/math/normalize.h"

namespace grpo::rewards {
namespace {

constexpr size_t kMaxPlaceholderChars = 200;

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool is_sentence_punctuation(char c) { return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?'; }

// Lower-cased, runs of whitespace collapsed to one space, spaces and sentence punctuation
// dropped at both ends.
std::string canonical(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  size_t begin = 0, end = out.size();
  while (begin < end && (out[begin] == ' ' || is_sentence_punctuation(out[begin]))) ++begin;
  while (end > begin && (out[end - 1] == ' ' || is_sentence_punctuation(out[end - 1]))) --end;
  return out.substr(begin, end - begin);
}

std::string without_spaces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!is_space(c)) out += c;
  }
  return out;
}

void example_contents(std::string_view prompt, std::string_view open, std::string_view close,
                      std::vector<std::string>& out) {
  for (size_t at = prompt.find(open); at != std::string_view::npos; at = prompt.find(open, at)) {
    const size_t begin = at + open.size();
    const size_t end = prompt.find(close, begin);
    if (end == std::string_view::npos) return;
    const std::string_view inside = prompt.substr(begin, end - begin);
    const std::string phrase = canonical(inside);
    if (!phrase.empty() && inside.size() <= kMaxPlaceholderChars && inside.find('<') == std::string_view::npos &&
        std::find(out.begin(), out.end(), phrase) == out.end()) {
      out.push_back(phrase);
    }
    at = end + close.size();
  }
}

void warn_once_without_placeholders() {
  static std::once_flag once;
  std::call_once(once, [] {
    logging::warn(
        "rewards: the prompt shows no example <think>...</think> or <answer>...</answer> contents (a template "
        "without system text?), so no placeholder list: placeholder thinking is not recognized; empty thinking "
        "still scores 0");
  });
}

}  // namespace

std::string completion_with_opened_think(std::string_view prompt, std::string_view completion) {
  if (!ends_with(trim(std::string(prompt)), "<think>") || starts_with(trim(std::string(completion)), "<think>")) {
    return std::string(completion);
  }
  return (starts_with(std::string(completion), "\n") ? "<think>" : "<think>\n") + std::string(completion);
}

std::optional<std::string> think_content(std::string_view completion) {
  const size_t open = completion.find("<think>");
  if (open == std::string_view::npos) return std::nullopt;
  const size_t close = completion.find("</think>", open + 7);
  if (close == std::string_view::npos) return std::nullopt;
  return std::string(completion.substr(open + 7, close - open - 7));
}

std::vector<std::string> template_placeholders(std::string_view prompt) {
  std::vector<std::string> phrases;
  example_contents(prompt, "<think>", "</think>", phrases);
  example_contents(prompt, "<answer>", "</answer>", phrases);
  if (phrases.empty()) warn_once_without_placeholders();
  return phrases;
}

size_t count_words(std::string_view text) {
  size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    if (is_space(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++words;
    }
  }
  return words;
}

ThinkingCheck check_thinking(std::string_view content, std::string_view prompt, size_t min_words) {
  const std::string phrase = canonical(content);
  if (trim(std::string(content)).empty()) return {ThinkingProblem::kEmpty, "empty thinking"};
  for (const auto& placeholder : template_placeholders(prompt)) {
    if (phrase == placeholder) {
      return {ThinkingProblem::kPlaceholder, "thinking is the template's placeholder '" + placeholder + "'"};
    }
  }
  const size_t words = count_words(content);
  if (words < min_words) {
    return {ThinkingProblem::kTooShort, "thinking has " + std::to_string(words) + " words, min_think_tokens is " +
                                            std::to_string(min_words)};
  }
  return {};
}

std::optional<std::string> final_answer(std::string_view completion) {
  const size_t close = completion.rfind("</think>");
  if (close != std::string_view::npos) completion = completion.substr(close + 8);
  const auto found = math::extract_answer(
      completion, {math::AnswerSource::Boxed, math::AnswerSource::AnswerTag, math::AnswerSource::AnswerLine});
  if (!found) return std::nullopt;
  return found->text;
}

bool answer_copied_from_prompt(const std::string& answer, std::string_view prompt) {
  const std::string squeezed = without_spaces(answer);
  if (squeezed.size() < 3) return false;
  const std::string trimmed = trim(answer);
  const bool one_plain_word = std::all_of(trimmed.begin(), trimmed.end(), is_alnum);
  if (one_plain_word) return false;
  if (without_spaces(prompt).find(squeezed) == std::string::npos) return false;
  return !math::is_number_literal(math::normalize_answer(answer));
}

}  // namespace grpo::rewards
