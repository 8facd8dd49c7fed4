// Rewards on the wording of a completion. `language_consistency` (DeepSeek-R1): the share of
// the reasoning's words written in the target script; the reasoning is the text inside
// <think>…</think> when present (`region: think`), else the whole completion. Words are runs
// of letters of one script; each Han or kana character is a word; digits, punctuation and
// math symbols are not words. No words gives 0. It detects scripts, not languages: English
// and French are both Latin. `repetition_penalty` (open-r1, from "Demystifying Long CoT"):
// (1 − unique n-grams / n-grams) · max_penalty over lowercase whitespace-split words; empty
// or shorter-than-n text gives 0. Lowercasing is ASCII only, and Chinese is not segmented
// (open-r1 uses jieba for zh).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "core/strings.h"
#include "rewards/builtin.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

enum class Script { None, Latin, Han, Kana, Hangul, Cyrillic, Greek, Arabic, Other };

// Decodes one UTF-8 code point at s[i], advancing i; invalid bytes decode as U+FFFD.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i++]);
  if (b < 0x80) return b;
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : -1;
  if (extra < 0 || i + extra > s.size()) return 0xFFFD;
  uint32_t cp = b & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (c & 0x3F);
    ++i;
  }
  return cp;
}

Script script_of(uint32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Script::Latin;
  if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c == 0xFFFD) return Script::None;
  if (c <= 0x24F || (c >= 0x1E00 && c <= 0x1EFF)) return Script::Latin;
  if (c >= 0x370 && c <= 0x3FF) return Script::Greek;
  if (c >= 0x400 && c <= 0x52F) return Script::Cyrillic;
  if (c >= 0x600 && c <= 0x6FF) return Script::Arabic;
  if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
      (c >= 0x20000 && c <= 0x2A6DF)) {
    return Script::Han;
  }
  if (c >= 0x3040 && c <= 0x30FF) return Script::Kana;
  if ((c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF)) return Script::Hangul;
  // Punctuation, arrows, math operators, CJK punctuation, full-width forms, emoji: not words.
  if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF) ||
      c >= 0x1F000) {
    return Script::None;
  }
  return Script::Other;
}

std::vector<Script> target_scripts(const std::string& language) {
  static const std::unordered_map<std::string, std::vector<Script>> table = {
      {"en", {Script::Latin}},        {"latin", {Script::Latin}},       {"fr", {Script::Latin}},
      {"de", {Script::Latin}},        {"es", {Script::Latin}},          {"zh", {Script::Han}},
      {"han", {Script::Han}},         {"ja", {Script::Han, Script::Kana}}, {"ko", {Script::Hangul}},
      {"ru", {Script::Cyrillic}},     {"cyrillic", {Script::Cyrillic}}, {"el", {Script::Greek}},
      {"ar", {Script::Arabic}}};
  const auto it = table.find(language);
  if (it == table.end()) {
    std::vector<std::string> names;
    for (const auto& [name, scripts] : table) names.push_back(name);
    throw Error("reward 'language_consistency': unknown language '" + language + "'; valid: " + join(names, ", "));
  }
  return it->second;
}

bool read_region(Params& p) {
  const auto region = p.get<std::string>("region", "think");
  if (region != "think" && region != "all") {
    throw Error("reward 'language_consistency': param 'region' must be 'think' or 'all', got '" + region + "'");
  }
  return region == "think";
}

class LanguageConsistency : public Reward {
 public:
  explicit LanguageConsistency(Params& p)
      : targets_(target_scripts(p.get<std::string>("language", "en"))),
        think_only_(read_region(p)) {}

  RewardResult score(const Sample& s) const override {
    std::string_view text = s.completion;
    if (think_only_) {
      const size_t open = text.find("<think>");
      const size_t begin = open == std::string_view::npos ? 0 : open + 7;
      const size_t close = text.find("</think>", begin);
      text = text.substr(begin, close == std::string_view::npos ? std::string_view::npos : close - begin);
    }
    long words = 0, in_target = 0;
    Script current = Script::None;
    for (size_t i = 0; i < text.size();) {
      const Script script = script_of(next_code_point(text, i));
      const bool per_character = script == Script::Han || script == Script::Kana;
      if (script != Script::None && (script != current || per_character)) {
        ++words;
        for (Script t : targets_) in_target += t == script;
      }
      current = script;
    }
    if (words == 0) return {0.0, "no words in the reasoning"};
    return {static_cast<double>(in_target) / words,
            std::to_string(in_target) + " of " + std::to_string(words) + " words in the target script"};
  }

 private:
  std::vector<Script> targets_;
  bool think_only_;
};

class RepetitionPenalty : public Reward {
 public:
  explicit RepetitionPenalty(Params& p) : n_(p.get<int>("ngram_size", 3)), max_penalty_(p.get<double>("max_penalty", -1.0)) {
    if (max_penalty_ > 0) throw Error("reward 'repetition_penalty': max_penalty must be <= 0, got " + std::to_string(max_penalty_));
    if (n_ < 1) throw Error("reward 'repetition_penalty': ngram_size must be >= 1");
  }

  RewardResult score(const Sample& s) const override {
    std::unordered_map<std::string, uint32_t> ids;
    std::vector<uint32_t> words;
    std::string word;
    auto flush = [&] {
      if (word.empty()) return;
      words.push_back(ids.emplace(word, static_cast<uint32_t>(ids.size())).first->second);
      word.clear();
    };
    for (char c : s.completion) {
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') flush();
      else word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    flush();
    if (words.size() < static_cast<size_t>(n_)) return {0.0, "fewer words than the n-gram size"};
    std::unordered_set<std::string> unique;
    const size_t total = words.size() - n_ + 1;
    for (size_t i = 0; i < total; ++i) {
      unique.emplace(reinterpret_cast<const char*>(&words[i]), sizeof(uint32_t) * n_);
    }
    const double repeated = 1.0 - static_cast<double>(unique.size()) / static_cast<double>(total);
    return {repeated * max_penalty_, std::to_string(unique.size()) + " unique of " + std::to_string(total) + " " +
                                         std::to_string(n_) + "-grams"};
  }

 private:
  int n_;
  double max_penalty_;
};

}  // namespace

void register_text_rewards() {
  register_reward("language_consistency", [](Params& p) { return std::make_unique<LanguageConsistency>(p); });
  register_reward("repetition_penalty", [](Params& p) { return std::make_unique<RepetitionPenalty>(p); });
}

}  // namespace grpo::rewards
