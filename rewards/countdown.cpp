// The countdown reward, with TinyZero's semantics (reference/grpo-algorithms.md §5): the
// equation inside the last <answer>…</answer> must use each given number exactly once (the
// multiset of digit runs equals `numbers`) and evaluate to `target`: `score` (1.0). An
// equation that is present but uses the wrong numbers, does not evaluate or misses the target
// gets `format_score` (0.1); no <answer> at all gets 0. `last_line_only` reproduces TinyZero's
// reading of only the completion's last line. Fields come from the record (names
// configurable); the numbers are read from `numbers` (what `grpo data generate` and the
// countdown dataset shape write) or, when that is absent, from TinyZero's `nums`. A missing
// or malformed field is an error naming it.
#include <algorithm>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "rewards/builtin.h"
#include "rewards/countdown_eval.h"
#include "rewards/math/rational.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

constexpr const char* kTinyZeroNumbers = "nums";

std::vector<long> read_numbers(const nlohmann::json& extra, std::string field, bool tinyzero_fallback) {
  if (!extra.contains(field) && tinyzero_fallback && extra.contains(kTinyZeroNumbers)) field = kTinyZeroNumbers;
  if (!extra.contains(field)) {
    throw Error("the record has no field '" + field + "'" +
                (tinyzero_fallback ? std::string(" (nor TinyZero's '") + kTinyZeroNumbers + "')" : std::string()));
  }
  const auto& value = extra.at(field);
  if (!value.is_array()) throw Error("field '" + field + "' must be a list of integers, got " + value.dump());
  std::vector<long> numbers;
  for (const auto& n : value) {
    if (!n.is_number_integer()) throw Error("field '" + field + "' must hold integers, got " + n.dump());
    numbers.push_back(n.get<long>());
  }
  return numbers;
}

long read_target(const nlohmann::json& extra, const std::string& field) {
  if (!extra.contains(field)) throw Error("the record has no field '" + field + "'");
  const auto& value = extra.at(field);
  if (!value.is_number_integer()) throw Error("field '" + field + "' must be an integer, got " + value.dump());
  return value.get<long>();
}

class CountdownReward : public Reward {
 public:
  explicit CountdownReward(Params& p)
      : score_(p.get<double>("score", 1.0)),
        format_score_(p.get<double>("format_score", 0.1)),
        tolerance_(p.get<double>("tolerance", 0.0)),
        last_line_only_(p.get<bool>("last_line_only", false)),
        numbers_field_(p.get<std::string>("numbers_field", "numbers")),
        target_field_(p.get<std::string>("target_field", "target")),
        tinyzero_fallback_(!p.raw("numbers_field").has_value()) {}

  RewardResult score(const Sample& s) const override {
    auto numbers = read_numbers(s.extra, numbers_field_, tinyzero_fallback_);
    const long target = read_target(s.extra, target_field_);
    std::string_view text = s.completion;
    if (last_line_only_) {
      const size_t nl = text.rfind('\n');
      if (nl != std::string_view::npos) text = text.substr(nl + 1);
    }
    const size_t close = text.rfind("</answer>");
    const size_t open = close == std::string_view::npos ? close : text.rfind("<answer>", close);
    if (open == std::string_view::npos) return {0.0, "no <answer>…</answer>"};
    const std::string_view equation = text.substr(open + 8, close - open - 8);
    const auto result = evaluate_countdown_equation(equation);
    auto used = result.numbers;
    std::sort(used.begin(), used.end());
    std::sort(numbers.begin(), numbers.end());
    if (used != numbers) return {format_score_, "numbers used differ from the given numbers"};
    if (!result.value) return {format_score_, "equation does not evaluate: " + result.error};
    const auto& v = *result.value;
    const bool hit = tolerance_ > 0 ? std::fabs(math::to_double(v) - static_cast<double>(target)) < tolerance_
                                    : (v.den == 1 && v.num == target);
    if (hit) return {score_, "equation reaches the target"};
    return {format_score_, "equation gives " + math::to_string(v) + ", target " + std::to_string(target)};
  }

 private:
  double score_, format_score_, tolerance_;
  bool last_line_only_;
  std::string numbers_field_, target_field_;
  bool tinyzero_fallback_;  // numbers_field left at its default: "nums" is read when "numbers" is absent
};

}  // namespace

void register_countdown_reward() {
  register_reward("countdown", [](Params& p) { return std::make_unique<CountdownReward>(p); });
}

}  // namespace grpo::rewards
