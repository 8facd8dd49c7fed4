// The `distill:` config section (`grpo distill`): which teacher, how many samples per prompt,
// the reward filter that decides which teacher samples the student learns from, and the
// on-policy logit-distillation loop. Sampling is the `rollout:` section, scoring the `rewards:`
// list, the student's SFT the `sft:` section, its optimizer `optim:`. validate() checks the
// section's own ranges; check_distill_settings() (distill_data.h) runs it with the checks that
// need a distill stage (a teacher, training prompts, a student) when such a stage starts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"

namespace grpo::rl {

struct DistillSettings {
  std::string mode;
  std::string teacher;
  std::string teacher_tokenizer;
  std::string teacher_template;
  int64_t samples_per_prompt = 4;
  int64_t max_prompts = 0;
  int64_t generate_batch = 64;
  std::vector<std::string> filter_rewards;
  double min_reward = 1.0;
  bool keep_truncated = false;
  int64_t max_per_prompt = 0;
  int64_t prompts_per_step = 8;
  int64_t micro_batch_size = 8;
  int64_t kl_chunk_rows = 1024;
};

inline void describe(config::Fields& f, DistillSettings& s) {
  f.choice("mode", s.mode, "sft", {"sft", "on_policy_kl"},
           "sft: the teacher samples data.train, the reward filter keeps good samples, the student is fine-tuned on "
           "them (RUN_DIR/distill_data.jsonl). on_policy_kl: the student samples, the teacher scores every token, "
           "loss = reverse KL(student || teacher) over the full vocabulary, token-mean.");
  f.field("teacher", s.teacher, "", "Hugging Face directory of the teacher (any loadable policy).");
  f.field("teacher_tokenizer", s.teacher_tokenizer, "", "tokenizer.json or its directory; empty = the teacher's directory.");
  f.field("teacher_template", s.teacher_template, "", "Prompt template of the teacher; empty = policy.template.");
  f.field("samples_per_prompt", s.samples_per_prompt, 4,
          "Completions sampled per prompt (the teacher's in sft mode, the student's in on_policy_kl mode).");
  f.field("max_prompts", s.max_prompts, 0, "sft: use at most this many data.train prompts; 0 = all.");
  f.field("generate_batch", s.generate_batch, 64, "sft: prompts per generation call (progress and memory granularity).");
  f.field("filter_rewards", s.filter_rewards, std::vector<std::string>{},
          "sft: a teacher sample is kept when every reward named here scores >= min_reward. Empty = the accuracy "
          "reward (the first of math_accuracy, countdown, code among `rewards:`, else the first reward) plus "
          "`format` when it is configured: keep correct and well-formatted samples.");
  f.field("min_reward", s.min_reward, 1.0, "sft: threshold every filter reward must reach.");
  f.field("keep_truncated", s.keep_truncated, false, "sft: keep samples cut off at rollout.max_new_tokens.");
  f.field("max_per_prompt", s.max_per_prompt, 0, "sft: keep at most this many samples per prompt (the first kept); 0 = all.");
  f.field("prompts_per_step", s.prompts_per_step, 8, "on_policy_kl: prompts per optimizer step (x samples_per_prompt completions).");
  f.field("micro_batch_size", s.micro_batch_size, 8, "on_policy_kl: completions per forward/backward.");
  f.field("kl_chunk_rows", s.kl_chunk_rows, 1024, "on_policy_kl: token positions per chunk of the full-vocabulary KL.");
}

// Every problem of the section's numbers, one message each naming its key
// ('distill.generate_batch'); empty = valid.
inline std::vector<std::string> validate(const DistillSettings& s) {
  std::vector<std::string> problems;
  if (s.samples_per_prompt < 1) problems.push_back("'distill.samples_per_prompt' must be >= 1");
  if (s.max_prompts < 0) problems.push_back("'distill.max_prompts' must be >= 0");
  if (s.generate_batch < 1) problems.push_back("'distill.generate_batch' must be >= 1");
  if (s.max_per_prompt < 0) problems.push_back("'distill.max_per_prompt' must be >= 0");
  if (s.prompts_per_step < 1) problems.push_back("'distill.prompts_per_step' must be >= 1");
  if (s.micro_batch_size < 1) problems.push_back("'distill.micro_batch_size' must be >= 1");
  if (s.kl_chunk_rows < 1) problems.push_back("'distill.kl_chunk_rows' must be >= 1");
  return problems;
}

}  // namespace grpo::rl
