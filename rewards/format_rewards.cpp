// The R1 template rewards. `format`: <think>…</think> then <answer>…</answer>, each tag exactly
// once. mode "strict" is open-r1's shape (newline after <think>, "\n</think>\n<answer>\n",
// "\n</answer>" at the very end, nothing before or after); mode "lenient" allows any
// whitespace between the parts and text before <think>. When the prompt ends with "<think>"
// (R1-Zero and TinyZero templates) the completion is read as if it started with that tag.
// `tag_count`: open-r1's partial credit, 0.25 for each of "<think>\n", "\n</think>\n",
// "\n<answer>\n", "\n</answer>" occurring exactly once.
// Both give 0 when the thinking is empty, is the template's placeholder ("reasoning process
// here", read from the prompt; see hacking_checks.h) or has fewer than `min_think_tokens`
// words; `judge_thinking: false` turns that off (open-r1's content-blind behaviour). Neither
// judges whether the reasoning is right.
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/strings.h"
#include "rewards/builtin.h"
#include "rewards/hacking_checks.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

size_t count(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// How the think block's content is judged; shared by both rewards.
struct ThinkingRule {
  bool enabled = true;
  size_t min_words = 0;

  ThinkingRule(Params& p, const std::string& reward) {
    enabled = p.get<bool>("judge_thinking", true);
    const long min_words_param = p.get<long>("min_think_tokens", 0);
    if (min_words_param < 0) {
      throw Error("reward '" + reward + "': param 'min_think_tokens' must be >= 0, got " +
                  std::to_string(min_words_param));
    }
    min_words = static_cast<size_t>(min_words_param);
  }
  // Why the thinking earns nothing, or "" (also when there is no think block to judge).
  std::string problem(const std::string& text, const std::string& prompt) const {
    if (!enabled) return "";
    const auto content = think_content(text);
    if (!content) return "";
    return check_thinking(*content, prompt, min_words).reason;
  }
};

bool tags_once(std::string_view t) {
  return count(t, "<think>") == 1 && count(t, "</think>") == 1 && count(t, "<answer>") == 1 && count(t, "</answer>") == 1;
}

// Why the completion is not in strict form, or "" when it is.
std::string strict_problem(std::string_view t) {
  if (!tags_once(t)) return "each of <think>, </think>, <answer>, </answer> must appear exactly once";
  if (t.substr(0, 8) != "<think>\n") return "must start with \"<think>\\n\"";
  const size_t middle = t.find("\n</think>\n<answer>\n");
  if (middle == std::string_view::npos) return "needs \"\\n</think>\\n<answer>\\n\" between reasoning and answer";
  if (t.size() < 10 || t.substr(t.size() - 10) != "\n</answer>") return "must end with \"\\n</answer>\"";
  if (middle + 19 > t.size() - 10) return "empty answer";
  return "";
}

std::string lenient_problem(std::string_view t) {
  if (!tags_once(t)) return "each of <think>, </think>, <answer>, </answer> must appear exactly once";
  const size_t open = t.find("<think>"), close = t.find("</think>");
  const size_t a_open = t.find("<answer>"), a_close = t.find("</answer>");
  if (!(open < close && close < a_open && a_open < a_close)) return "tags out of order";
  if (!trim(std::string(t.substr(close + 8, a_open - close - 8))).empty()) return "text between </think> and <answer>";
  if (!trim(std::string(t.substr(a_close + 9))).empty()) return "text after </answer>";
  if (trim(std::string(t.substr(a_open + 8, a_close - a_open - 8))).empty()) return "empty answer";
  return "";
}

class FormatReward : public Reward {
 public:
  explicit FormatReward(Params& p) : thinking_(p, "format") {
    const auto mode = p.get<std::string>("mode", "strict");
    if (mode != "strict" && mode != "lenient") {
      throw Error("reward 'format': param 'mode' must be 'strict' or 'lenient', got '" + mode + "'");
    }
    strict_ = mode == "strict";
  }
  RewardResult score(const Sample& s) const override {
    const std::string text = completion_with_opened_think(s.prompt, s.completion);
    std::string problem = strict_ ? strict_problem(text) : lenient_problem(text);
    if (problem.empty()) problem = thinking_.problem(text, s.prompt);
    if (problem.empty()) return {1.0, strict_ ? "strict R1 format" : "lenient R1 format"};
    return {0.0, problem};
  }

 private:
  bool strict_ = true;
  ThinkingRule thinking_;
};

class TagCountReward : public Reward {
 public:
  explicit TagCountReward(Params& p) : thinking_(p, "tag_count") {}
  RewardResult score(const Sample& s) const override {
    const std::string text = completion_with_opened_think(s.prompt, s.completion);
    const std::string thinking_problem = thinking_.problem(text, s.prompt);
    if (!thinking_problem.empty()) return {0.0, thinking_problem};
    double value = 0.0;
    std::string missing;
    for (std::string_view tag : {"<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"}) {
      if (count(text, tag) == 1) {
        value += 0.25;
      } else {
        std::string shown;
        for (char c : tag) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
        missing += (missing.empty() ? "" : ", ") + shown;
      }
    }
    return {value, missing.empty() ? "all four tags once" : "not exactly once: " + missing};
  }

 private:
  ThinkingRule thinking_;
};

}  // namespace

void register_format_rewards() {
  register_reward("format", [](Params& p) { return std::make_unique<FormatReward>(p); });
  register_reward("tag_count", [](Params& p) { return std::make_unique<TagCountReward>(p); });
}

}  // namespace grpo::rewards
