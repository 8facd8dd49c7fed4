// Gold-answer extraction; see answer_extract.h.
#include "datasets/answer_extract.h"

#include <cstring>

#include "core/strings.h"

namespace grpo::datasets {

std::optional<std::string> gsm8k_final_answer(const std::string& solution) {
  const auto marker = solution.rfind("####");
  if (marker == std::string::npos) return std::nullopt;
  std::string answer;
  for (char c : trim(solution.substr(marker + 4))) {
    if (c != ',') answer += c;
  }
  if (answer.empty()) return std::nullopt;
  return answer;
}

namespace {

// Index one past the '}' matching the '{' at `open`, or npos when it never closes.
size_t matching_brace_end(const std::string& text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '}')) {
      ++i;  // "\{" and "\}" are literal braces in LaTeX, not grouping
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string::npos;
}

// Position of the next "\boxed" or "\fbox" at or after `from`, with the command's length.
size_t find_box_command(const std::string& text, size_t from, size_t* command_length) {
  const size_t boxed = text.find("\\boxed", from);
  const size_t fbox = text.find("\\fbox", from);
  if (boxed <= fbox) {
    *command_length = std::strlen("\\boxed");
    return boxed;
  }
  *command_length = std::strlen("\\fbox");
  return fbox;
}

}  // namespace

std::optional<std::string> last_boxed_answer(const std::string& solution) {
  std::optional<std::string> last;
  size_t command_length = 0;
  size_t pos = find_box_command(solution, 0, &command_length);
  while (pos != std::string::npos) {
    size_t i = pos + command_length;
    while (i < solution.size() && solution[i] == ' ') ++i;
    if (i < solution.size() && solution[i] == '{') {
      const size_t end = matching_brace_end(solution, i);
      if (end == std::string::npos) return last;  // an unclosed box ends the search
      last = trim(solution.substr(i + 1, end - i - 2));
      pos = find_box_command(solution, end, &command_length);
    } else if (i > pos + command_length) {
      const size_t end = solution.find_first_of(" \t\n$", i);
      last = solution.substr(i, end == std::string::npos ? std::string::npos : end - i);
      pos = find_box_command(solution, i, &command_length);
    } else {
      pos = find_box_command(solution, i, &command_length);  // e.g. "\boxedx": not a box
    }
  }
  return last;
}

}  // namespace grpo::datasets
