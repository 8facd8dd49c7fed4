// The `metrics:` section: what every sampling stage (GRPO, on-policy distillation) measures
// about its completions beyond their rewards. Today that is the reflection phrases whose rates
// are logged as aha/* each step (core/text/reflection_phrases.h); the rates of reward, length and format are
// always logged (completion_metrics.h) and need no key.
#pragma once

#include <string>
#include <vector>

#include "core/config/fields.h"
#include "core/text/reflection_phrases.h"

namespace grpo::rl {

struct MetricsSettings {
  std::vector<std::string> reflection_phrases;
};

inline void describe(config::Fields& f, MetricsSettings& s) {
  f.field("reflection_phrases", s.reflection_phrases, default_reflection_phrases(),
          "Phrases whose share of each step's completions is logged as aha/<phrase>_rate (spaces and punctuation "
          "become '_'), plus aha/any_rate: a completion counts when it contains the phrase, ASCII letters "
          "compared case-insensitively, not inside a longer word ('awaiting' is no 'wait'). [] logs none. "
          "Defaults: R1's examples.");
}

// Every problem of the section, one message each naming its key and item; empty = valid.
inline std::vector<std::string> validate(const MetricsSettings& s) {
  return reflection_phrase_problems(s.reflection_phrases, "metrics.reflection_phrases");
}

}  // namespace grpo::rl
