// Reflection phrases: the matching rule, metric names and rates; see reflection_phrases.h.
#include "core/text/reflection_phrases.h"

#include <map>

namespace grpo {
namespace {

bool is_ascii_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_word_byte(unsigned char c) { return is_ascii_alnum(c) || c == '_'; }

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

// The boundary half of the rule: an occurrence of a phrase that starts (ends) with a word byte
// may not continue a word before (after) it.
bool at_word_edges(std::string_view text, size_t at, std::string_view phrase) {
  const size_t end = at + phrase.size();
  const bool bounded_start = is_word_byte(static_cast<unsigned char>(phrase.front()));
  const bool bounded_end = is_word_byte(static_cast<unsigned char>(phrase.back()));
  const bool start_ok = !bounded_start || at == 0 || !is_word_byte(static_cast<unsigned char>(text[at - 1]));
  const bool end_ok = !bounded_end || end == text.size() || !is_word_byte(static_cast<unsigned char>(text[end]));
  return start_ok && end_ok;
}

// Both arguments already lower_ascii'd.
bool contains_lowered(std::string_view text, std::string_view phrase) {
  if (phrase.empty()) return false;
  for (size_t at = text.find(phrase); at != std::string_view::npos; at = text.find(phrase, at + 1))
    if (at_word_edges(text, at, phrase)) return true;
  return false;
}

std::string slug(std::string_view phrase) {
  std::string out;
  bool pending_separator = false;
  for (const char c : lower_ascii(phrase)) {
    const auto u = static_cast<unsigned char>(c);
    if (is_ascii_alnum(u) || u >= 0x80) {
      if (pending_separator && !out.empty()) out += '_';
      pending_separator = false;
      out += c;
    } else {
      pending_separator = true;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> default_reflection_phrases() {
  return {"wait", "let me check", "re-examine", "recheck", "let me verify", "double-check", "aha"};
}

bool phrase_occurs_at(std::string_view text, size_t at, std::string_view phrase) {
  if (phrase.empty() || at > text.size() || phrase.size() > text.size() - at) return false;
  for (size_t i = 0; i < phrase.size(); ++i)
    if (lower_ascii(text[at + i]) != lower_ascii(phrase[i])) return false;
  return at_word_edges(text, at, phrase);
}

bool contains_phrase(std::string_view text, std::string_view phrase) {
  return contains_lowered(lower_ascii(text), lower_ascii(phrase));
}

std::string reflection_metric_name(std::string_view phrase) { return "aha/" + slug(phrase) + "_rate"; }

std::vector<std::string> reflection_phrase_problems(const std::vector<std::string>& phrases, const std::string& key) {
  std::vector<std::string> problems;
  std::map<std::string, size_t> first_with_name = {{"aha/any_rate", phrases.size()}};
  for (size_t i = 0; i < phrases.size(); ++i) {
    const std::string item = "'" + key + "[" + std::to_string(i) + "]'";
    if (phrases[i].empty()) {
      problems.push_back(item + " must not be empty");
      continue;
    }
    if (slug(phrases[i]).empty()) {
      problems.push_back(item + " (\"" + phrases[i] + "\") must contain a letter or digit");
      continue;
    }
    const std::string name = reflection_metric_name(phrases[i]);
    const auto [it, fresh] = first_with_name.emplace(name, i);
    if (!fresh)
      problems.push_back(item + " (\"" + phrases[i] + "\") would be logged as " + name + ", like " +
                         (it->second == phrases.size() ? std::string("the any-phrase rate")
                                                       : "item " + std::to_string(it->second)));
  }
  return problems;
}

std::map<std::string, double> reflection_metrics(const std::vector<std::string>& texts,
                                                 const std::vector<std::string>& phrases) {
  if (phrases.empty()) return {};
  std::vector<std::string> lowered_phrases;
  for (const auto& p : phrases) lowered_phrases.push_back(lower_ascii(p));
  std::vector<double> hits(phrases.size(), 0.0);
  double any = 0;
  for (const auto& text : texts) {
    const std::string lowered = lower_ascii(text);
    bool found = false;
    for (size_t p = 0; p < phrases.size(); ++p) {
      if (!contains_lowered(lowered, lowered_phrases[p])) continue;
      hits[p] += 1;
      found = true;
    }
    any += found;
  }
  const double n = static_cast<double>(texts.size());
  std::map<std::string, double> m;
  for (size_t p = 0; p < phrases.size(); ++p) m[reflection_metric_name(phrases[p])] = hits[p] / n;
  m["aha/any_rate"] = any / n;
  return m;
}

}  // namespace grpo
