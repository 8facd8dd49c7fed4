// `grpo generate`: sample completions for prompts in a JSONL file with the rollout engine.
// Input records hold `prompt` (text, rendered with --template, default raw, and tokenized with
// the model's tokenizer) or `prompt_ids`. Output records: prompt_index, sample, completion,
// completion_ids, logprobs (log softmax(logits / T) of each sampled token), finish_reason.
// `completion` is valid UTF-8 (U+FFFD where the tokens' bytes are not); completion_ids are exact.
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/text/json_lossy.h"
#include "core/torch/device.h"
#include "datasets/json_text.h"
#include "policy/engine_factory.h"
#include "policy/policy_bundle.h"

namespace {

struct GenerateArgs {
  std::string model, input, output, tokenizer, template_name = "raw", device = "auto";
  int64_t n = 1, max_new_tokens = 256, top_k = 0, slots = 64, threads = 0;
  double temperature = 1.0, top_p = 1.0, min_p = 0.0;
  uint64_t seed = 0;
  std::vector<std::string> stop;
};

std::vector<grpo::rollout::GenerationRequest> read_requests(const GenerateArgs& a, const grpo::policy::PolicyBundle& p) {
  std::ifstream in(a.input);
  if (!in) throw grpo::Error(grpo::SourceLocation{a.input, 0, 0}, "cannot open input file");
  std::vector<grpo::rollout::GenerationRequest> out;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json js = grpo::datasets::parse_json_line(line, a.input, line_no);
    grpo::rollout::GenerationRequest q;
    if (js.contains("prompt_ids")) {
      q.prompt_ids = js["prompt_ids"].get<std::vector<int64_t>>();
    } else if (js.contains("prompt") && js["prompt"].is_string()) {
      grpo::datasets::Record r;
      r.prompt = js["prompt"].get<std::string>();
      q.prompt_ids = p.encode_prompt(r);
    } else {
      throw grpo::Error(grpo::SourceLocation{a.input, line_no, 0}, "record has neither 'prompt' (string) nor 'prompt_ids'");
    }
    q.n = a.n;
    q.max_new_tokens = a.max_new_tokens;
    q.sampling = {a.temperature, a.top_k, a.top_p, a.min_p};
    q.stop_token_ids = p.stop_token_ids;
    q.stop_strings = a.stop;
    out.push_back(std::move(q));
  }
  if (out.empty()) throw grpo::Error(grpo::SourceLocation{a.input, 0, 0}, "no prompts in input file");
  return out;
}

void setup_generate(CLI::App& root) {
  auto a = std::make_shared<GenerateArgs>();
  auto* cmd = root.add_subcommand("generate", "Sample completions for a JSONL file of prompts");
  cmd->add_option("--model", a->model, "Hugging Face model directory")->required();
  cmd->add_option("--input", a->input, "JSONL with prompt or prompt_ids per line")->required();
  cmd->add_option("--output", a->output, "JSONL output")->required();
  cmd->add_option("--n", a->n, "Samples per prompt");
  cmd->add_option("--temperature", a->temperature, "0 = greedy");
  cmd->add_option("--top-p", a->top_p, "Nucleus mass");
  cmd->add_option("--top-k", a->top_k, "0 = off");
  cmd->add_option("--min-p", a->min_p, "0 = off");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Completion length cap");
  cmd->add_option("--seed", a->seed, "Sampling seed");
  cmd->add_option("--stop", a->stop, "Stop strings (repeatable)");
  cmd->add_option("--template", a->template_name, "Prompt template for text prompts (raw, r1_zero, chatml, ...)");
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json or directory (default: the model's)");
  cmd->add_option("--device", a->device, "auto, cpu, cuda");
  cmd->add_option("--slots", a->slots, "Sequences decoded at once");
  cmd->add_option("--threads", a->threads, "CPU threads (0 = all)");
  cmd->callback([a] {
    grpo::set_cpu_threads(static_cast<int>(a->threads));
    grpo::policy::PolicyLoad load;
    load.model_dir = a->model;
    load.tokenizer = a->tokenizer;
    load.template_name = a->template_name;
    load.device = grpo::parse_device(a->device);
    auto policy = grpo::policy::load_policy_bundle(load);
    const auto requests = read_requests(*a, policy);
    int64_t longest = 0, total = 0;
    for (const auto& q : requests) {
      longest = std::max<int64_t>(longest, q.prompt_ids.size());
      total += q.n * q.max_new_tokens;
    }
    grpo::rollout::RolloutSettings rs;
    rs.max_batch_sequences = a->slots;
    rs.max_new_tokens = a->max_new_tokens;
    const auto engine = grpo::policy::make_engine(policy, rs, longest, a->n);
    grpo::Progress progress("generate", total, "tok", 5.0);
    int64_t shown = 0;
    const auto result = engine->generate(requests, a->seed, [&](int64_t done) {
      progress.advance(done - shown);
      shown = done;
    });
    progress.finish();
    std::ofstream out(a->output);
    if (!out) throw grpo::Error(grpo::SourceLocation{a->output, 0, 0}, "cannot write output file");
    for (size_t r = 0; r < result.completions.size(); ++r)
      for (size_t s = 0; s < result.completions[r].size(); ++s) {
        const auto& c = result.completions[r][s];
        nlohmann::ordered_json js;
        js["prompt_index"] = r;
        js["sample"] = s;
        js["completion"] = policy.decode(c.token_ids, /*skip_special_tokens=*/true);
        js["completion_ids"] = c.token_ids;
        js["logprobs"] = c.logprobs;
        js["finish_reason"] = grpo::rollout::finish_reason_name(c.finish_reason);
        out << grpo::json_dump_lossy(js) << "\n";
      }
    const double secs = result.stats.prefill_seconds + result.stats.decode_seconds;
    std::cout << "generated " << result.stats.generated_tokens << " tokens for " << requests.size() << " prompts in "
              << secs << " s (" << result.stats.generated_tokens / std::max(1e-9, secs) << " tok/s) -> " << a->output
              << "\n";
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(generate, setup_generate);
