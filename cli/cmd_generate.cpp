// `grpo generate`: sample completions for prompts in a JSONL file with the rollout engine.
// Input records hold `prompt` (text, rendered with --template, default raw, and tokenized with
// the model's tokenizer) or `prompt_ids`. Output records: prompt_index, sample, completion,
// completion_ids, logprobs (log softmax(logits / T) of each sampled token), finish_reason.
// `completion` is valid UTF-8 (U+FFFD where the tokens' bytes are not); completion_ids are exact.
// Sampling follows the `rollout:` settings of the experiment config, as in training
// (--config FILE, key=value, and the sampling flags as shorthands: experiment_args.h).
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "cli/experiment_args.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/text/json_lossy.h"
#include "core/torch/device.h"
#include "datasets/json_text.h"
#include "policy/engine_factory.h"
#include "policy/sampling_request.h"
#include "policy/policy_bundle.h"

namespace {

struct GenerateArgs {
  std::string model, input, output, tokenizer, template_name = "raw";
  int64_t n = 1;
  grpo::cli::ExperimentArgs experiment;
};

std::vector<grpo::rollout::GenerationRequest> read_requests(const GenerateArgs& a, const grpo::rollout::RolloutSettings& rs,
                                                            const grpo::policy::PolicyBundle& p) {
  std::ifstream in(a.input);
  if (!in) throw grpo::Error(grpo::SourceLocation{a.input, 0, 0}, "cannot open input file");
  std::vector<grpo::rollout::GenerationRequest> out;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json js = grpo::datasets::parse_json_line(line, a.input, line_no);
    std::vector<int64_t> prompt_ids;
    if (js.contains("prompt_ids")) {
      prompt_ids = js["prompt_ids"].get<std::vector<int64_t>>();
    } else if (js.contains("prompt") && js["prompt"].is_string()) {
      grpo::datasets::Record r;
      r.prompt = js["prompt"].get<std::string>();
      prompt_ids = p.encode_prompt(r);
    } else {
      throw grpo::Error(grpo::SourceLocation{a.input, line_no, 0}, "record has neither 'prompt' (string) nor 'prompt_ids'");
    }
    out.push_back(grpo::policy::sampling_request(rs, p, std::move(prompt_ids), a.n));
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
  cmd->add_option("--template", a->template_name, "Prompt template for text prompts (raw, r1_zero, chatml, ...)");
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json or directory (default: the model's)");
  grpo::cli::add_experiment_options(cmd, a->experiment);
  grpo::cli::add_sampling_shorthands(cmd, a->experiment);
  cmd->callback([a] {
    const auto cfg = grpo::cli::load_experiment(a->experiment);
    grpo::set_cpu_threads(static_cast<int>(cfg.run.threads));
    grpo::policy::PolicyLoad load;
    load.model_dir = a->model;
    load.tokenizer = a->tokenizer;
    load.template_name = a->template_name;
    load.device = grpo::parse_device(cfg.run.device);
    auto policy = grpo::policy::load_policy_bundle(load);
    const auto requests = read_requests(*a, cfg.rollout, policy);
    int64_t longest = 0, total = 0;
    for (const auto& q : requests) {
      longest = std::max<int64_t>(longest, q.prompt_ids.size());
      total += q.n * q.max_new_tokens;
    }
    const auto engine = grpo::policy::make_engine(policy, cfg.rollout, longest, a->n);
    grpo::Progress progress("generate", total, "tok", 5.0);
    int64_t shown = 0;
    const auto result = engine->generate(requests, static_cast<uint64_t>(cfg.run.seed), [&](int64_t done) {
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
