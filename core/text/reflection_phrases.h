// The "aha" signals of a step's completions: for each reflection phrase of a configured list
// (R1's examples by default: "wait", "let me check", ...), the share of completions whose text
// contains it, logged as aha/<name>_rate, and aha/any_rate, the share containing at least one.
//
// What "contains" means, exactly: the phrase occurs in the completion's bytes with ASCII letters
// compared case-insensitively, and where the phrase begins (ends) with an ASCII letter, digit or
// '_', the byte before (after) the occurrence is not one of those (or is the text's edge). So
// "Wait," and "(wait)" count for "wait", "awaiting" and "waits" do not; "Let me check." counts for
// "let me check", "let me checkout" does not. Bytes outside ASCII are neither folded nor word
// characters, so text that is not UTF-8 is matched byte by byte like any other. Spaces in a
// phrase match one space exactly (no folding of line breaks or runs of spaces).
// Used where the metrics are computed (rl/stage/completion_metrics.h: every completion of a
// step) and where the report highlights the phrases (report/samples.h), so both see the same
// occurrences. Not here: the config key (rl/stage/metrics_settings.h). No LibTorch.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace grpo {

// R1's reflection examples ("Wait, wait. Wait. That's an aha moment I can flag here.", the
// re-examination and verification the paper describes).
std::vector<std::string> default_reflection_phrases();

// Whether `phrase` occurs in `text` starting at byte `at`, under the rule above.
bool phrase_occurs_at(std::string_view text, size_t at, std::string_view phrase);

// Whether `text` contains `phrase` under the rule above.
bool contains_phrase(std::string_view text, std::string_view phrase);

// aha/<slug>_rate, the slug being the phrase in lower case with every run of other ASCII
// characters (spaces, '-', punctuation) made one '_' and none at either end: "Re-examine" ->
// aha/re_examine_rate. Bytes outside ASCII are kept.
std::string reflection_metric_name(std::string_view phrase);

// The problems of a phrase list, one message each naming `key` and the item's index: an empty
// phrase, one with no letter or digit, two phrases with one metric name (or the name of
// aha/any_rate). Empty = valid.
std::vector<std::string> reflection_phrase_problems(const std::vector<std::string>& phrases, const std::string& key);

// aha/<slug>_rate for each phrase and aha/any_rate, over `texts` (every completion of a step;
// at least one). Empty when `phrases` is.
std::map<std::string, double> reflection_metrics(const std::vector<std::string>& texts,
                                                 const std::vector<std::string>& phrases);

}  // namespace grpo
