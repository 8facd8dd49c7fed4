// SFT targets for generated tasks, for making a policy from scratch when no teacher model can
// be downloaded (the CPU quickstart). Each record gets extra.response rendered from a pattern
// ("<answer>{answer}</answer>"; {answer} and any extra string or number field, e.g.
// {expression}, are substituted). A fraction of the records, chosen from the seed, get a wrong
// integer answer instead (the reference plus or minus 1..max_offset): a noisy teacher, so the
// pretrained policy is right only part of the time and reinforcement learning has something to
// fix. It does not produce reasoning traces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/record.h"

namespace grpo::datasets {

struct ResponseOptions {
  std::string pattern = "<answer>{answer}</answer>";
  double wrong_fraction = 0.0;  // in [0, 1]
  int64_t max_offset = 5;       // wrong answers differ from the reference by 1..max_offset
  uint64_t seed = 0;
};

// Sets extra["response"] on every record; a wrong answer needs an integer reference answer
// (else a grpo::Error naming the record). Unknown {fields} in the pattern are an error.
void add_responses(std::vector<Record>& records, const ResponseOptions& options);

}  // namespace grpo::datasets
