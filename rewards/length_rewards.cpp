// Length shaping. `soft_overlong` (DAPO, arXiv 2503.14476): with L the completion length,
// Lmax = max_length and C = cache, 0 when L <= Lmax − C, ((Lmax − C) − L)/C in the soft zone,
// −1 beyond Lmax, all times `factor`. `cosine_length` (open-r1's cosine-scaled reward):
// progress = L / max_len, r = lo + ½(hi − lo)(1 + cos(π·progress)), with (lo, hi) =
// (min_value_correct, max_value_correct) for a correct answer and (max_value_wrong,
// min_value_wrong) for a wrong one, so short correct answers earn most and short wrong ones
// lose most. Correctness comes from another reward (`correctness`, default math_accuracy)
// reaching `correct_threshold`. Departure: progress is clamped to 1 (open-r1's cosine turns
// back up past max_len). L counts tokens (`unit: tokens`, needs the sample's token count)
// or Unicode characters (`unit: chars`, open-r1's choice for cosine).
#include <cmath>
#include <memory>

#include "core/error.h"
#include "rewards/builtin.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

bool read_unit_is_tokens(Params& p, const std::string& reward, const std::string& fallback) {
  const auto unit = p.get<std::string>("unit", fallback);
  if (unit != "tokens" && unit != "chars") {
    throw Error("reward '" + reward + "': param 'unit' must be 'tokens' or 'chars', got '" + unit + "'");
  }
  return unit == "tokens";
}

long completion_length(const Sample& s, bool tokens, const std::string& reward) {
  if (!tokens) {
    long chars = 0;
    for (char c : s.completion) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return chars;
  }
  if (!s.completion_tokens) {
    throw Error("reward '" + reward + "' needs the completion's token count (field 'completion_tokens'), or unit: chars");
  }
  return *s.completion_tokens;
}

class SoftOverlong : public Reward {
 public:
  explicit SoftOverlong(Params& p)
      : max_length_(p.get<long>("max_length", 0)),
        cache_(p.get<long>("cache", 0)),
        factor_(p.get<double>("factor", 1.0)),
        tokens_(read_unit_is_tokens(p, "soft_overlong", "tokens")) {
    if (max_length_ <= 0 || cache_ <= 0 || cache_ > max_length_) {
      throw Error("reward 'soft_overlong': needs params max_length > 0 and 0 < cache <= max_length");
    }
  }
  RewardResult score(const Sample& s) const override {
    const long length = completion_length(s, tokens_, "soft_overlong");
    const long soft_start = max_length_ - cache_;
    if (length <= soft_start) return {0.0, "within the length budget"};
    if (length > max_length_) return {-factor_, "longer than max_length"};
    const double value = static_cast<double>(soft_start - length) / static_cast<double>(cache_) * factor_;
    return {value, std::to_string(length - soft_start) + " into the overlong buffer"};
  }

 private:
  long max_length_, cache_;
  double factor_;
  bool tokens_;
};

class CosineLength : public Reward {
 public:
  explicit CosineLength(Params& p)
      : min_wrong_(p.get<double>("min_value_wrong", 0.0)),
        max_wrong_(p.get<double>("max_value_wrong", -0.5)),
        min_correct_(p.get<double>("min_value_correct", 0.5)),
        max_correct_(p.get<double>("max_value_correct", 1.0)),
        max_len_(p.get<double>("max_len", 1000)),
        threshold_(p.get<double>("correct_threshold", 1.0)),
        tokens_(read_unit_is_tokens(p, "cosine_length", "chars")) {
    const auto name = p.get<std::string>("correctness", "math_accuracy");
    if (name == "cosine_length") throw Error("reward 'cosine_length': correctness cannot be cosine_length itself");
    correctness_ = make_reward(name, p.raw("correctness_params").value_or(nlohmann::json::object()));
    if (max_len_ <= 0) throw Error("reward 'cosine_length': max_len must be > 0");
  }
  RewardResult score(const Sample& s) const override {
    const auto verdict = correctness_->score(s);
    const bool correct = verdict.value >= threshold_;
    const double length = static_cast<double>(completion_length(s, tokens_, "cosine_length"));
    const double progress = std::min(1.0, length / max_len_);
    const double lo = correct ? min_correct_ : max_wrong_;
    const double hi = correct ? max_correct_ : min_wrong_;
    const double value = lo + 0.5 * (hi - lo) * (1.0 + std::cos(M_PI * progress));
    return {value, std::string(correct ? "correct" : "wrong") + ", length " + std::to_string(static_cast<long>(length))};
  }
  bool runs_processes() const override { return correctness_->runs_processes(); }

 private:
  double min_wrong_, max_wrong_, min_correct_, max_correct_, max_len_, threshold_;
  bool tokens_;
  std::unique_ptr<Reward> correctness_;
};

}  // namespace

void register_length_rewards() {
  register_reward("soft_overlong", [](Params& p) { return std::make_unique<SoftOverlong>(p); });
  register_reward("cosine_length", [](Params& p) { return std::make_unique<CosineLength>(p); });
}

}  // namespace grpo::rewards
