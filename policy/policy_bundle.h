// A policy as every stage uses it: the model, its tokenizer, the prompt template, and the ids
// that end a completion. Loaded from a Hugging Face directory (or a checkpoint of a run).
// Prompts are rendered from dataset records with the template and encoded here, so every stage
// (rl, sft, eval, distill, generate) tokenizes prompts the same way. Not here: training state
// (optimizer, reference model) and sampling settings.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "datasets/record.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"
#include "model/arch/transformer.h"

namespace grpo::policy {

struct PolicyBundle {
  model::CausalLM model{nullptr};
  Tokenizer tokenizer;
  // Initialized here so that `PolicyBundle{model, tokenizer}` names every member it leaves out.
  std::optional<ChatTemplate> chat_template = std::nullopt;  // nullopt = "raw": the prompt text as is
  std::string system_prompt = {};
  std::filesystem::path source_dir = {};     // where tokenizer files are copied from on save
  std::vector<int64_t> stop_token_ids = {};  // end-of-sequence ids

  // The record's prompt rendered with the template (with the generation prompt).
  std::string render_prompt(const datasets::Record& record) const;
  std::vector<int64_t> encode_prompt(const datasets::Record& record) const;
  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;
};

struct PolicyLoad {
  std::filesystem::path model_dir;
  std::string tokenizer;       // tokenizer.json or directory; "" = model_dir
  std::string template_name;   // builtin template name or "raw"
  std::string system_prompt;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
};

PolicyBundle load_policy_bundle(const PolicyLoad& load);

// The template named `name` ("raw" = none).
std::optional<ChatTemplate> template_named(const std::string& name);

}  // namespace grpo::policy
