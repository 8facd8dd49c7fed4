// The sample browser: completions of the sampled steps grouped by step and prompt, each with
// its total reward, per-function rewards, advantage, length and truncation, and its reflection
// phrases ("wait", "let me check", ...) highlighted. The page's script switches steps and filters
// by reward range, truncation and text; without the script every step is shown. Text is
// escaped here; nothing from a completion reaches the page unescaped.
#pragma once

#include <string>
#include <vector>

#include "core/run_store.h"

namespace grpo::report {

// The run's reflection phrases: `metrics.reflection_phrases` of its stored config when set,
// otherwise the list the aha metrics use by default (core/text/reflection_phrases.h), for runs stored
// before the key existed.
std::vector<std::string> reflection_phrases_of(const std::string& config_yaml);

// `text` escaped for HTML with every occurrence of a phrase wrapped in <mark> (the longest where
// several start at one byte). Occurrences are the aha metrics' (core/text/reflection_phrases.h).
std::string highlight_phrases(const std::string& text, const std::vector<std::string>& phrases);

// The browser's HTML for `samples` (ordered by step, prompt, sample).
std::string render_sample_browser(const std::vector<SampleRecord>& samples, const std::vector<std::string>& phrases);

}  // namespace grpo::report
