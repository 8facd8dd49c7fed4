// JSON record <-> Sample for offline scoring and auditing; see completion_records.h.
#include "rewards/completion_records.h"

namespace grpo::rewards {
namespace {

std::string text_field(const nlohmann::json& record, const std::string& field, bool required,
                       const SourceLocation& where) {
  if (!record.contains(field)) {
    if (required) throw Error(where, "missing field '" + field + "'");
    return "";
  }
  if (!record[field].is_string()) throw Error(where, "field '" + field + "' must be a string");
  return record[field].get<std::string>();
}

}  // namespace

Sample sample_from_record(const nlohmann::json& record, const RecordFields& fields, const SourceLocation& where) {
  if (!record.is_object()) throw Error(where, "each line must be a JSON object");
  Sample s;
  s.prompt = text_field(record, fields.prompt, fields.prompt_required, where);
  s.completion = text_field(record, fields.completion, true, where);
  s.answer = text_field(record, fields.answer, fields.answer_required, where);
  s.extra = record;
  if (record.contains("completion_tokens")) {
    if (!record["completion_tokens"].is_number_integer()) throw Error(where, "field 'completion_tokens' must be an integer");
    s.completion_tokens = record["completion_tokens"].get<long>();
  }
  if (record.contains("truncated")) s.truncated = record["truncated"].is_boolean() && record["truncated"].get<bool>();
  return s;
}

nlohmann::json with_scores(nlohmann::json record, const BatchScores& scores, size_t i) {
  auto rewards = nlohmann::json::object(), reasons = nlohmann::json::object();
  for (size_t r = 0; r < scores.names.size(); ++r) {
    rewards[scores.names[r]] = scores.values[i][r];
    reasons[scores.names[r]] = scores.reasons[i][r];
  }
  record["rewards"] = std::move(rewards);
  record["reward"] = scores.totals[i];
  record["reasons"] = std::move(reasons);
  return record;
}

}  // namespace grpo::rewards
