// Answer extraction; see extract.h.
#include "rewards/math/extract.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/strings.h"

namespace grpo::rewards::math {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Last position of `needle` in `text`, compared case-insensitively; npos if absent.
size_t rfind_nocase(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return std::string_view::npos;
  for (size_t i = text.size() - needle.size() + 1; i-- > 0;) {
    size_t k = 0;
    while (k < needle.size() && std::tolower(static_cast<unsigned char>(text[i + k])) == needle[k]) ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

std::string trim_answer(std::string s) {
  s = grpo::trim(s);
  while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ';')) s = grpo::trim(s.substr(0, s.size() - 1));
  while (!s.empty() && (s.front() == ':')) s = grpo::trim(s.substr(1));
  return s;
}

// The box inside an extracted span wins over the span: "<answer>so \boxed{5}</answer>".
std::string prefer_box(std::string s) {
  if (s.find("\\boxed") == std::string::npos && s.find("\\fbox") == std::string::npos) return s;
  auto box = last_boxed(s);
  return box ? *box : s;
}

std::optional<std::string> answer_tag(std::string_view text) {
  const size_t close = text.rfind("</answer>");
  if (close == std::string_view::npos) return std::nullopt;
  const size_t open = text.rfind("<answer>", close);
  if (open == std::string_view::npos) return std::nullopt;
  return prefer_box(trim_answer(std::string(text.substr(open + 8, close - open - 8))));
}

std::optional<std::string> rest_of_line(std::string_view text, size_t from) {
  const size_t end = text.find('\n', from);
  std::string line(text.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from));
  line = prefer_box(trim_answer(line));
  if (line.empty()) return std::nullopt;
  return line;
}

std::optional<std::string> answer_line(std::string_view text) {
  const size_t colon = rfind_nocase(text, "answer:");
  const size_t is = rfind_nocase(text, "answer is");
  size_t at = std::string_view::npos;
  size_t skip = 0;
  if (colon != std::string_view::npos && (is == std::string_view::npos || colon > is)) {
    at = colon;
    skip = 7;
  } else if (is != std::string_view::npos) {
    at = is;
    skip = 9;
  }
  if (at == std::string_view::npos) return std::nullopt;
  auto line = rest_of_line(text, at + skip);
  // "The answer is $5$." -> "5"
  if (line && line->size() >= 2 && line->front() == '$') {
    const size_t close = line->find('$', 1);
    if (close != std::string::npos) *line = trim_answer(line->substr(1, close - 1));
  }
  return line;
}

std::optional<std::string> gsm8k(std::string_view text) {
  const size_t at = text.rfind("####");
  if (at == std::string_view::npos) return std::nullopt;
  auto line = rest_of_line(text, at + 4);
  if (line) {
    line->erase(std::remove_if(line->begin(), line->end(), [](char c) { return c == ',' || c == '$'; }), line->end());
  }
  return line;
}

// The last number: digits with an optional decimal part, thousands groups only when every
// group after a comma has three digits ("1,234" but not the list "1,2"), a leading minus, and
// a numerator when the number is a denominator ("3/4").
std::optional<std::string> last_number(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && !is_digit(text[end - 1])) --end;
  if (end == 0) return std::nullopt;
  auto digits_back = [&](size_t pos) {
    while (pos > 0 && is_digit(text[pos - 1])) --pos;
    return pos;
  };
  auto integer_back = [&](size_t stop) {
    size_t begin = digits_back(stop);
    if (begin > 1 && text[begin - 1] == '.' && is_digit(text[begin - 2])) {
      stop = begin - 1;
      begin = digits_back(stop);
    }
    while (stop - begin == 3 && begin > 1 && text[begin - 1] == ',' && is_digit(text[begin - 2])) {
      stop = begin - 1;
      begin = digits_back(stop);
    }
    return begin;
  };
  size_t begin = integer_back(end);
  if (begin > 1 && text[begin - 1] == '/' && is_digit(text[begin - 2])) begin = integer_back(begin - 1);
  if (begin > 0 && text[begin - 1] == '-' && (begin == 1 || !std::isalnum(static_cast<unsigned char>(text[begin - 2])))) {
    --begin;
  }
  return std::string(text.substr(begin, end - begin));
}

}  // namespace

std::optional<std::string> last_boxed(std::string_view text) {
  const size_t boxed = text.rfind("\\boxed");
  const size_t fbox = text.rfind("\\fbox");
  size_t at;
  size_t len;
  if (boxed != std::string_view::npos && (fbox == std::string_view::npos || boxed > fbox)) {
    at = boxed;
    len = 6;
  } else if (fbox != std::string_view::npos) {
    at = fbox;
    len = 5;
  } else {
    return std::nullopt;
  }
  size_t i = at + len;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i >= text.size()) return std::nullopt;
  if (text[i] != '{') {
    if (i == at + len) return std::nullopt;  // "\boxedfoo" is another command
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) && text[j] != '$') ++j;
    return std::string(text.substr(i, j - i));
  }
  int depth = 0;
  for (size_t j = i; j < text.size(); ++j) {
    if (text[j] == '\\' && j + 1 < text.size()) {
      ++j;
      continue;
    }
    if (text[j] == '{') ++depth;
    if (text[j] == '}' && --depth == 0) return trim_answer(std::string(text.substr(i + 1, j - i - 1)));
  }
  return std::nullopt;
}

std::optional<Extracted> extract_answer(std::string_view text, const std::vector<AnswerSource>& order) {
  for (AnswerSource source : order) {
    std::optional<std::string> found;
    switch (source) {
      case AnswerSource::Boxed: found = last_boxed(text); break;
      case AnswerSource::AnswerTag: found = answer_tag(text); break;
      case AnswerSource::AnswerLine: found = answer_line(text); break;
      case AnswerSource::Gsm8k: found = gsm8k(text); break;
      case AnswerSource::LastNumber: found = last_number(text); break;
    }
    if (found && !found->empty()) return Extracted{std::move(*found), source};
  }
  return std::nullopt;
}

std::string extract_reference(const std::string& answer) {
  if (auto box = last_boxed(answer)) return *box;
  if (answer.find("####") != std::string::npos) {
    if (auto line = gsm8k(answer)) return *line;
  }
  return grpo::trim(answer);
}

AnswerSource parse_answer_source(const std::string& name) {
  static const std::vector<std::string> names = {"boxed", "answer_tag", "answer_line", "gsm8k", "last_number"};
  for (size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) return static_cast<AnswerSource>(i);
  }
  throw Error("unknown answer source '" + name + "'" + did_you_mean(name, names) + "; valid: " + join(names, ", "));
}

const char* answer_source_name(AnswerSource source) {
  static const char* names[] = {"boxed", "answer_tag", "answer_line", "gsm8k", "last_number"};
  return names[static_cast<int>(source)];
}

}  // namespace grpo::rewards::math
