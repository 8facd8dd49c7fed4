// Dataset shapes: which JSON field of a record holds the id, the prompt (or chat messages)
// and the answer, and how the answer is taken from it. Built in: gsm8k, math, math500,
// prompt_answer, chat, and countdown (TinyZero's {"nums": [...], "target": T} files, or the
// {"numbers": [...], "target": T} records `grpo data generate --task countdown` writes, whose
// prompt is built from the numbers); a field map ("prompt=question") renames fields.
// Every field a shape does not consume is kept in Record::extra. Shapes convert one JSON
// object; reading files, lines and skipping is reader.h's job.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "datasets/record.h"

namespace grpo::datasets {

enum class AnswerForm {
  kVerbatim,    // the field's value as is (numbers are printed as JSON prints them)
  kGsm8kFinal,  // the number after the last "####" (see answer_extract.h)
  kLastBoxed,   // the content of the last \boxed{...}
};

struct FieldMap {
  std::string id;        // "" = the record's id is "<file name>:<line>"
  std::string prompt;    // text prompt field; "" when the shape uses messages
  std::string messages;  // chat messages field: [{"role": ..., "content": ...}, ...]
  std::string answer;    // reference answer field; "" = records carry no answer
  std::string numbers;   // countdown only: the numbers field (the answer field is the target)
};

struct Shape {
  std::string name;
  FieldMap fields;
  AnswerForm answer_form = AnswerForm::kVerbatim;
  bool answer_required = true;     // chat data may carry no answer (e.g. SFT conversations)
  bool countdown_prompt = false;   // the prompt is built from the numbers and the target
};

// The built-in shape called `name` (a core/registry.h table); an unknown name is a grpo::Error
// suggesting the closest and listing the valid ones.
Shape shape_named(const std::string& name);
std::vector<std::string> shape_names();  // sorted

// `shape` with fields renamed by "key=field" entries (keys: id, prompt, messages, answer,
// numbers);
// an empty field name ("answer=") turns that part off. Bad entries are a grpo::Error.
Shape with_field_map(Shape shape, const std::vector<std::string>& entries);

// Converts one parsed JSON value to a Record. Problems (not an object, a missing field, a
// wrong type, no final answer in a solution) are a grpo::Error at `source` naming the field.
Record record_from_json(const nlohmann::json& value, const Shape& shape, const Provenance& source);

}  // namespace grpo::datasets
