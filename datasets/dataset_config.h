// The config section that names a dataset file and how to read it, for stages that read
// data (rl, sft, distill, eval): compose it into a stage's config with
//   f.section("data", c.data, "Training data.");
// and turn it into ReadOptions with read_options(). It does not read the file.
#pragma once

#include <string>
#include <vector>

#include "core/config/fields.h"
#include "datasets/reader.h"
#include "datasets/shapes.h"

namespace grpo::datasets {

struct DataSourceSettings {
  std::string path;
  std::string format;
  std::vector<std::string> field_map;
  std::string on_malformed;
};

inline void describe(config::Fields& f, DataSourceSettings& s) {
  f.field("path", s.path, "", "JSONL file (one JSON object per line) or JSON array file.");
  f.choice("format", s.format, "prompt_answer", shape_names(),
           "Record shape: which fields hold the prompt (or chat messages) and the answer.");
  f.field("field_map", s.field_map, {},
          "Renamed fields as key=field, keys id, prompt, messages, answer, numbers (e.g. prompt=question).");
  f.choice("on_malformed", s.on_malformed, "error", {"error", "skip"},
           "A malformed line or missing field: stop with its file:line, or skip it and count it.");
}

// The reader options these settings describe; a bad field map is a grpo::Error.
ReadOptions read_options(const DataSourceSettings& settings);

}  // namespace grpo::datasets
