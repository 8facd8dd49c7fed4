// SFT targets for generated tasks, for making a policy from scratch when no teacher model can
// be downloaded (the CPU quickstart). Each record gets extra.response rendered from one of the
// patterns, drawn uniformly from the seed ("<answer>{answer}</answer>"; {answer} and any extra
// string or number field, e.g. {expression} or arithmetic's worked {steps}, are substituted).
// Several styles make a teacher with several habits, e.g. one that sometimes works the problem
// out step by step and sometimes answers at once. Each style has its share of wrong integer
// answers (the reference plus or minus 1..max_offset, chosen from the seed): a noisy teacher,
// so the pretrained policy is right only part of the time and reinforcement learning has
// something to fix; a teacher that guesses more often than it works things out is the
// R1-Zero story in miniature.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/record.h"

namespace grpo::datasets {

struct ResponseStyle {
  std::string pattern;
  double wrong_fraction = 0.0;  // in [0, 1]
};

struct ResponseOptions {
  std::vector<ResponseStyle> styles = {{"<answer>{answer}</answer>", 0.0}};  // at least one, drawn uniformly
  int64_t max_offset = 5;       // wrong answers differ from the reference by 1..max_offset
  uint64_t seed = 0;
};

// Sets extra["response"] on every record; a wrong answer needs an integer reference answer
// (else a grpo::Error naming the record). Unknown {fields} in the pattern are an error.
void add_responses(std::vector<Record>& records, const ResponseOptions& options);

}  // namespace grpo::datasets
