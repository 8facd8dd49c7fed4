// Built-in dataset shapes and JSON -> Record conversion; see shapes.h.
#include "datasets/shapes.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/registry.h"
#include "core/strings.h"
#include "datasets/answer_extract.h"
#include "datasets/countdown.h"

namespace grpo::datasets {

namespace {

constexpr const char* kTinyZeroNumbers = "nums";      // TinyZero's countdown files
constexpr const char* kGeneratedNumbers = "numbers";  // grpo data generate --task countdown

const Registry<Shape>& builtin_shapes() {
  static const Registry<Shape> shapes = [] {
    Registry<Shape> table("dataset format");
    for (const Shape& shape : std::vector<Shape>{
             {"gsm8k", {"", "question", "", "answer", ""}, AnswerForm::kGsm8kFinal, true, false},
             {"math", {"", "problem", "", "solution", ""}, AnswerForm::kLastBoxed, true, false},
             {"math500", {"unique_id", "problem", "", "answer", ""}, AnswerForm::kVerbatim, true, false},
             {"prompt_answer", {"id", "prompt", "", "answer", ""}, AnswerForm::kVerbatim, true, false},
             {"chat", {"id", "", "messages", "answer", ""}, AnswerForm::kVerbatim, false, false},
             {"countdown", {"id", "", "", "target", kTinyZeroNumbers}, AnswerForm::kVerbatim, true, true},
         })
      table.add(shape.name, shape);
    return table;
  }();
  return shapes;
}

[[noreturn]] void fail(const Provenance& at, const std::string& message) {
  throw Error(SourceLocation{at.file, at.line, 0}, message);
}

const nlohmann::json& required_field(const nlohmann::json& object, const std::string& field,
                                     const std::string& role, const Shape& shape, const Provenance& at) {
  const auto it = object.find(field);
  if (it == object.end()) {
    fail(at, "missing field '" + field + "' (the " + shape.name + " shape reads the " + role + " from it)");
  }
  return *it;
}

std::string non_empty_string(const nlohmann::json& value, const std::string& field, const Provenance& at) {
  if (!value.is_string()) fail(at, "field '" + field + "' must be a string, got " + value.type_name());
  const auto& text = value.get_ref<const std::string&>();
  if (trim(text).empty()) fail(at, "field '" + field + "' is empty");
  return text;
}

std::vector<Message> parse_messages(const nlohmann::json& value, const std::string& field, const Provenance& at) {
  if (!value.is_array() || value.empty()) {
    fail(at, "field '" + field + "' must be a non-empty array of {\"role\", \"content\"} objects");
  }
  std::vector<Message> messages;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string name = field + "[" + std::to_string(i) + "]";
    const auto& item = value[i];
    if (!item.is_object()) fail(at, "field '" + name + "' must be an object, got " + item.type_name());
    for (const char* key : {"role", "content"}) {
      if (!item.contains(key)) fail(at, "field '" + name + "' is missing '" + key + "'");
      if (!item[key].is_string()) {
        fail(at, "field '" + name + "." + key + "' must be a string, got " + item[key].type_name());
      }
    }
    messages.push_back({item["role"].get<std::string>(), item["content"].get<std::string>()});
  }
  return messages;
}

std::string extract_answer(const nlohmann::json& value, const std::string& field, AnswerForm form,
                           const Provenance& at) {
  if (form == AnswerForm::kVerbatim) {
    if (value.is_number()) return value.dump();
    return non_empty_string(value, field, at);
  }
  const std::string solution = non_empty_string(value, field, at);
  if (form == AnswerForm::kGsm8kFinal) {
    const auto answer = gsm8k_final_answer(solution);
    if (!answer) fail(at, "field '" + field + "' has no final '#### <answer>' line");
    return *answer;
  }
  const auto answer = last_boxed_answer(solution);
  if (!answer || answer->empty()) fail(at, "field '" + field + "' has no \\boxed{...} answer");
  return *answer;
}

std::string record_id(const nlohmann::json& object, const std::string& field, const Provenance& at) {
  const auto it = field.empty() ? object.end() : object.find(field);
  if (it == object.end()) return std::filesystem::path(at.file).filename().string() + ":" + std::to_string(at.line);
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  fail(at, "field '" + field + "' must be a string or an integer, got " + it->type_name());
}

// TinyZero's countdown files carry only the numbers (`nums`) and the target; the prompt is
// ours. `grpo data generate --task countdown` writes `numbers`, read here when `nums` is absent.
Record countdown_record(const nlohmann::json& value, const Shape& shape, Record record) {
  FieldMap f = shape.fields;
  const Provenance& at = record.source;
  if (f.numbers == kTinyZeroNumbers && !value.contains(f.numbers) && value.contains(kGeneratedNumbers)) {
    f.numbers = kGeneratedNumbers;
  }
  if (!value.contains(f.numbers)) {
    fail(at, "missing field '" + f.numbers + "'" +
                 (f.numbers == kTinyZeroNumbers ? std::string(" (or '") + kGeneratedNumbers + "')" : std::string()) +
                 " (the " + shape.name + " shape reads the numbers from it)");
  }
  const auto& numbers = value.at(f.numbers);
  const auto& target = required_field(value, f.answer, "target", shape, at);
  if (!numbers.is_array() || numbers.empty() ||
      !std::all_of(numbers.begin(), numbers.end(), [](const nlohmann::json& n) { return n.is_number_integer(); })) {
    fail(at, "field '" + f.numbers + "' must be a non-empty array of integers");
  }
  if (!target.is_number_integer()) fail(at, "field '" + f.answer + "' must be an integer, got " + target.type_name());
  const auto list = numbers.get<std::vector<int64_t>>();
  record.prompt = countdown_prompt(list, target.get<int64_t>());
  record.answer = target.dump();
  for (const auto& [key, item] : value.items()) {
    if (key != f.id && key != f.numbers && key != f.answer) record.extra[key] = item;
  }
  record.extra["numbers"] = list;
  record.extra["target"] = target;
  return record;
}

}  // namespace

std::vector<std::string> shape_names() { return builtin_shapes().names(); }

Shape shape_named(const std::string& name) { return builtin_shapes().get(name); }

Shape with_field_map(Shape shape, const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) throw Error("field map entry '" + entry + "' must look like key=field");
    const std::string key = trim(entry.substr(0, eq));
    const std::string field = trim(entry.substr(eq + 1));
    if (key == "id") {
      shape.fields.id = field;
    } else if (key == "prompt") {
      shape.fields.prompt = field;
      if (!field.empty()) shape.fields.messages.clear();  // a record has a prompt or messages
    } else if (key == "messages") {
      shape.fields.messages = field;
      if (!field.empty()) shape.fields.prompt.clear();
    } else if (key == "answer") {
      shape.fields.answer = field;
      shape.answer_required = !field.empty();
    } else if (key == "numbers" && shape.countdown_prompt) {
      shape.fields.numbers = field;
    } else {
      std::vector<std::string> keys = {"id", "prompt", "messages", "answer"};
      if (shape.countdown_prompt) keys.push_back("numbers");
      throw Error("field map key '" + key + "' is not one of " + join(keys, ", ") + did_you_mean(key, keys));
    }
  }
  if (shape.countdown_prompt && (shape.fields.numbers.empty() || shape.fields.answer.empty())) {
    throw Error("field map for countdown must name both the 'numbers' and the 'answer' (target) fields");
  }
  if (!shape.countdown_prompt && shape.fields.prompt.empty() && shape.fields.messages.empty()) {
    throw Error("field map for " + shape.name + " names neither a 'prompt' nor a 'messages' field");
  }
  return shape;
}

Record record_from_json(const nlohmann::json& value, const Shape& shape, const Provenance& source) {
  if (!value.is_object()) fail(source, std::string("expected a JSON object, got ") + value.type_name());
  const FieldMap& f = shape.fields;
  Record record;
  record.source = source;
  record.id = record_id(value, f.id, source);
  if (shape.countdown_prompt) return countdown_record(value, shape, std::move(record));
  if (!f.prompt.empty()) {
    record.prompt = non_empty_string(required_field(value, f.prompt, "prompt", shape, source), f.prompt, source);
  } else {
    record.messages = parse_messages(required_field(value, f.messages, "messages", shape, source), f.messages, source);
  }
  const bool has_answer = !f.answer.empty() && value.contains(f.answer);
  if (has_answer) {
    record.answer = extract_answer(value[f.answer], f.answer, shape.answer_form, source);
  } else if (shape.answer_required) {
    required_field(value, f.answer, "answer", shape, source);
  }
  for (const auto& [key, item] : value.items()) {
    if (key != f.id && key != f.prompt && key != f.messages && key != f.answer) record.extra[key] = item;
  }
  // A worked solution is worth keeping beside its extracted answer (e.g. for SFT).
  if (has_answer && shape.answer_form != AnswerForm::kVerbatim && !record.extra.contains("solution")) {
    record.extra["solution"] = value[f.answer];
  }
  return record;
}

}  // namespace grpo::datasets
