// The JSON records that `grpo reward` scores and `grpo reward check` audits, one per
// completion: the prompt, the completion and the reference answer under configurable field
// names, plus whatever other fields the rewards read (numbers, target, tests, ...). Turns one
// parsed record into a Sample, and a scored record into its output form. Reading and writing
// the lines is the caller's job (the CLI parses them with datasets::parse_json_line). No LibTorch.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"
#include "rewards/reward.h"
#include "rewards/reward_set.h"

namespace grpo::rewards {

struct RecordFields {
  std::string prompt = "prompt";
  std::string completion = "completion";
  std::string answer = "answer";
  bool answer_required = true;  // false: a record without the answer field has answer ""
  bool prompt_required = true;  // false: a record without the prompt field has prompt ""
};

// The whole record is kept as Sample::extra; an integer "completion_tokens" and a boolean
// "truncated" fill the Sample's fields of those names. A record that is not an object, misses a
// required field or holds a field of the wrong type is a grpo::Error at `where`.
Sample sample_from_record(const nlohmann::json& record, const RecordFields& fields, const SourceLocation& where);

// `record` plus "rewards" (name -> value), "reward" (the weighted total) and "reasons"
// (name -> reason) of sample `i` of `scores`.
nlohmann::json with_scores(nlohmann::json record, const BatchScores& scores, size_t i);

}  // namespace grpo::rewards
